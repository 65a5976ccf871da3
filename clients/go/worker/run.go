package worker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Run connects to the server over conn, registers the tools and serves
// invocations until ctx is done; then it cancels the running handlers (cause
// ErrStopped), waits for them and returns nil.
//
// A dropped stream (server restart, network) costs the in-flight tasks, which
// the server fails as WORKER_LOST, but not the worker: their handlers are
// cancelled (cause ErrConnectionLost) and Run reconnects and registers again,
// waiting 100 ms doubling to 5 s (with jitter) between attempts. Errors that
// another attempt cannot fix, a rejected registration or missing
// credentials, are returned: their gRPC status says what to change.
//
// conn is typically a *grpc.ClientConn; Run does not close it.
func (w *Worker) Run(ctx context.Context, conn grpc.ClientConnInterface) error {
	reg, tools, err := w.start()
	if err != nil {
		return err
	}
	defer w.stop()

	client := pb.NewToolWorkerServiceClient(conn)
	var bo backoff
	for {
		registered, err := w.connect(ctx, client, reg, tools)
		if ctx.Err() != nil {
			return nil
		}
		if !retryable(err) {
			return fmt.Errorf("worker %q: %w", w.name, err)
		}
		if registered {
			bo.reset()
		}
		delay := bo.delay()
		w.log.Warn("worker: connection ended, reconnecting", "error", err, "in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// start claims the worker for one Run and builds the registration and the
// tool table, which are the same for every connection.
func (w *Worker) start() (*pb.RegisterWorker, map[string]*Tool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		return nil, nil, ErrRunning
	}
	if len(w.tools) == 0 {
		return nil, nil, errors.New("worker: no tools: Register at least one before Run")
	}
	if w.maxConc < 0 || w.maxConc > math.MaxInt32 {
		return nil, nil, fmt.Errorf("worker: MaxConcurrency must be from 0 (no limit) to 2147483647, got %d", w.maxConc)
	}
	w.running = true
	reg := &pb.RegisterWorker{WorkerName: w.name, MaxConcurrency: int32(w.maxConc)}
	tools := make(map[string]*Tool, len(w.tools))
	for i := range w.tools {
		t := w.tools[i]
		reg.Tools = append(reg.Tools, t.proto())
		tools[t.Name] = &t
	}
	return reg, tools, nil
}

// stop waits for every handler Run started, so none outlives Run, and
// releases the worker for another Run.
func (w *Worker) stop() {
	w.handlers.Wait()
	w.mu.Lock()
	w.running = false
	w.id = ""
	w.mu.Unlock()
}

// retryable tells a passing failure from one only a change of configuration
// (tools, credentials, server address) can fix, which retrying would only
// hide.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists,
		codes.Unauthenticated, codes.PermissionDenied, codes.Unimplemented:
		return false
	}
	return true
}
