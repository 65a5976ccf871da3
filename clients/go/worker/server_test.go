package worker_test

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/taskservice/taskservice/clients/go/worker"
)

// wait bounds every wait in these tests: long enough for a loaded machine
// running -race, short enough that a hang fails instead of stalling the run.
const wait = 5 * time.Second

// quiet is how long a test watches for something that must not happen.
const quiet = 300 * time.Millisecond

// scriptedServer is a real gRPC ToolWorkerService that hands every Connect
// stream to the test, which then plays the server's side message by message.
type scriptedServer struct {
	pb.UnimplementedToolWorkerServiceServer
	conns chan *serverConn
}

// serverConn is one worker stream as the test drives it.
type serverConn struct {
	t      *testing.T
	stream grpc.BidiStreamingServer[pb.ConnectRequest, pb.ConnectResponse]
	recv   chan *pb.ConnectRequest // closed when the worker's side ends
	end    chan error              // what Connect returns, ending the stream
}

func (s *scriptedServer) Connect(stream grpc.BidiStreamingServer[pb.ConnectRequest, pb.ConnectResponse]) error {
	ctx := stream.Context()
	c := &serverConn{stream: stream, recv: make(chan *pb.ConnectRequest, 1024), end: make(chan error, 1)}
	go func() {
		defer close(c.recv)
		for {
			m, err := stream.Recv()
			if err != nil {
				return
			}
			select {
			case c.recv <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	select {
	case s.conns <- c:
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
	select {
	case err := <-c.end:
		return err
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// startServer serves a scriptedServer on a free local port and returns it
// with a client connection to it; both are closed when the test ends.
func startServer(t *testing.T) (*scriptedServer, *grpc.ClientConn) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &scriptedServer{conns: make(chan *serverConn)}
	gs := grpc.NewServer()
	pb.RegisterToolWorkerServiceServer(gs, srv)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(lis)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		gs.Stop()
		<-served
	})
	return srv, conn
}

// accept waits for the worker's next stream.
func (s *scriptedServer) accept(t *testing.T) *serverConn {
	t.Helper()
	select {
	case c := <-s.conns:
		c.t = t
		return c
	case <-time.After(wait):
		t.Fatal("the worker did not connect")
		return nil
	}
}

// noConnection fails if the worker opens a stream within quiet.
func (s *scriptedServer) noConnection(t *testing.T, why string) {
	t.Helper()
	select {
	case <-s.conns:
		t.Fatalf("the worker connected again: %s", why)
	case <-time.After(quiet):
	}
}

// running is a Run in progress.
type running struct {
	w      *worker.Worker
	cancel context.CancelFunc
	done   chan error
}

// run starts w.Run and makes sure it has returned when the test ends.
func run(t *testing.T, w *worker.Worker, conn grpc.ClientConnInterface) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: w, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx, conn) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(wait):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	return r
}

// stop cancels Run and returns its error.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return r.result(t)
}

// result waits for Run to return by itself.
func (r *running) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // keep it for the cleanup
		return err
	case <-time.After(wait):
		t.Fatal("Run did not return")
		return nil
	}
}

// newWorker is a worker with the given tools, failing the test if one is refused.
func newWorker(t *testing.T, opts worker.Options, tools ...worker.Tool) *worker.Worker {
	t.Helper()
	w := worker.New(opts)
	for _, tool := range tools {
		if err := w.Register(tool); err != nil {
			t.Fatalf("Register(%q): %v", tool.Name, err)
		}
	}
	return w
}

// serve runs a worker with the given tools against a new scripted server and
// completes its registration, which most tests only need done.
func serve(t *testing.T, opts worker.Options, tools ...worker.Tool) (*running, *serverConn) {
	t.Helper()
	srv, conn := startServer(t)
	r := run(t, newWorker(t, opts, tools...), conn)
	c := srv.accept(t)
	c.register(&pb.WorkerRegistered{WorkerId: "w-1"})
	return r, c
}

// next is the worker's next message.
func (c *serverConn) next() *pb.ConnectRequest {
	c.t.Helper()
	select {
	case m, ok := <-c.recv:
		if !ok {
			c.t.Fatal("the worker's stream ended")
		}
		return m
	case <-time.After(wait):
		c.t.Fatal("no message from the worker")
		return nil
	}
}

// register expects the worker's registration and accepts it with r.
func (c *serverConn) register(r *pb.WorkerRegistered) *pb.RegisterWorker {
	c.t.Helper()
	reg := c.next().GetRegister()
	if reg == nil {
		c.t.Fatal("the first message is not RegisterWorker")
	}
	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Registered{Registered: r}})
	return reg
}

func (c *serverConn) send(m *pb.ConnectResponse) {
	c.t.Helper()
	if err := c.stream.Send(m); err != nil {
		c.t.Fatalf("send to the worker: %v", err)
	}
}

func (c *serverConn) invoke(taskID, tool string, args any) {
	c.t.Helper()
	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Invocation{Invocation: &pb.Invocation{
		TaskId: taskID, ToolName: tool, ArgumentsJson: mustJSON(c.t, args),
	}}})
}

func (c *serverConn) cancel(taskID string, reason pb.FailureReason, msg string) {
	c.t.Helper()
	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Cancellation{Cancellation: &pb.Cancellation{
		TaskId: taskID, Reason: reason, Message: msg,
	}}})
}

func (c *serverConn) ping(seq uint64) {
	c.t.Helper()
	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Ping{Ping: &pb.Ping{Sequence: seq}}})
}

// result is the worker's next message, which must be taskID's result.
func (c *serverConn) result(taskID string) *pb.InvocationResult {
	c.t.Helper()
	m := c.next()
	r := m.GetResult()
	if r == nil || r.GetTaskId() != taskID {
		c.t.Fatalf("want the result of %s, got %v", taskID, m)
	}
	return r
}

// pong pings and expects the answer as the worker's next message, which also
// proves nothing else was queued before it.
func (c *serverConn) pong(seq uint64) {
	c.t.Helper()
	c.ping(seq)
	if m := c.next(); m.GetPong() == nil || m.GetPong().GetSequence() != seq {
		c.t.Fatalf("want Pong %d, got %v", seq, m)
	}
}

// close ends the stream with err (nil: a clean end, io.EOF to the worker).
func (c *serverConn) close(err error) { c.end <- err }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recv waits for a value a handler hands the test.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// tool is a Tool for tests, with its handler.
func tool(name string, h worker.HandlerFunc) worker.Tool {
	return worker.Tool{Name: name, Description: "test tool " + name, Handler: h}
}

// blocking is a handler that reports each start on started and returns
// "released" once release is closed, or the cause when its context ends.
func blocking(started chan<- string, release <-chan struct{}) worker.HandlerFunc {
	return func(ctx context.Context, call *worker.Call) (any, error) {
		started <- call.TaskID
		select {
		case <-release:
			return "released", nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}
