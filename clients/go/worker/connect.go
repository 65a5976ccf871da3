package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc"
)

// errServerSilent ends a connection on which the server stopped talking. The
// server pings regularly, so silence means a connection that died without
// closing (a half-open TCP connection after a network failure), which would
// otherwise keep the worker waiting forever instead of reconnecting.
var errServerSilent = errors.New("worker: the server went silent")

// connect runs one stream from opening to its end and returns why it ended.
// registered says whether the server accepted the registration, which
// restarts the reconnect backoff.
func (w *Worker) connect(ctx context.Context, client pb.ToolWorkerServiceClient,
	reg *pb.RegisterWorker, tools map[string]*Tool) (registered bool, err error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stream, err := client.Connect(sctx)
	if err != nil {
		return false, err
	}
	accepted, err := handshake(stream, reg)
	if err != nil {
		return false, err
	}

	w.setID(accepted.GetWorkerId())
	defer w.setID("")
	w.log.Info("worker: registered", "worker_id", accepted.GetWorkerId(), "name", w.name, "tools", len(reg.Tools))
	if w.onRegistered != nil {
		w.onRegistered(accepted.GetWorkerId())
	}

	// Handlers get Run's context values but not its cancellation: the
	// session cancels them itself, with a cause that says why.
	s := newSession(w, stream, tools, context.WithoutCancel(ctx))
	if limit := silenceLimit(accepted); limit > 0 {
		watchdog := time.AfterFunc(limit, func() {
			cancel(fmt.Errorf("%w for %v", errServerSilent, limit))
		})
		defer watchdog.Stop()
		s.heard = func() { watchdog.Reset(limit) }
	}

	sent := make(chan struct{})
	go func() {
		defer close(sent)
		s.send(sctx)
	}()
	err = s.receive()
	if cause := context.Cause(sctx); errors.Is(cause, errServerSilent) {
		err = cause
	}
	cancel(nil)
	<-sent

	lost := ErrConnectionLost
	if ctx.Err() != nil {
		lost = ErrStopped
	}
	s.close(lost)
	return true, err
}

// handshake sends the registration and waits for the server's answer. A
// refusal arrives as the stream's status, which carries the server's
// explanation.
func handshake(stream grpc.BidiStreamingClient[pb.ConnectRequest, pb.ConnectResponse],
	reg *pb.RegisterWorker) (*pb.WorkerRegistered, error) {
	sendErr := stream.Send(&pb.ConnectRequest{Message: &pb.ConnectRequest_Register{Register: reg}})
	// A failed Send only says the stream is gone (io.EOF); Recv returns
	// the status the stream ended with, so read it either way.
	m, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	if sendErr != nil {
		return nil, sendErr
	}
	accepted := m.GetRegistered()
	if accepted == nil {
		return nil, fmt.Errorf("worker: the server answered the registration with %T instead of WorkerRegistered", m.GetMessage())
	}
	return accepted, nil
}

// silenceLimit is how long the server may stay silent before the worker
// gives the connection up: as long as the server would wait for the worker,
// and at least three ping intervals so one late ping is not fatal. 0 (no
// limit) when the server does not ping, since silence is then normal.
func silenceLimit(r *pb.WorkerRegistered) time.Duration {
	interval := r.GetPingIntervalSeconds()
	if interval <= 0 {
		return 0
	}
	seconds := max(r.GetTimeoutSeconds(), 3*interval)
	return time.Duration(seconds * float64(time.Second))
}
