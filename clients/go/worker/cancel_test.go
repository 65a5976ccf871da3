package worker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/taskservice/taskservice/clients/go/worker"
)

// causeRecorder is a handler that waits for its context, hands the test the
// cause, keeps reporting progress and then returns a result, all of which
// the worker must drop.
func causeRecorder(started chan<- string, causes chan<- error) worker.HandlerFunc {
	return func(ctx context.Context, call *worker.Call) (any, error) {
		started <- call.TaskID
		<-ctx.Done()
		call.Progress(0.9, "after cancel")
		causes <- context.Cause(ctx)
		return "late result", nil
	}
}

func TestCancellationStopsTheHandlerWithTheReason(t *testing.T) {
	started, causes := make(chan string, 1), make(chan error, 1)
	_, c := serve(t, worker.Options{}, tool("wait", causeRecorder(started, causes)), tool("quick", nop))

	c.invoke("t1", "wait", map[string]any{})
	recv(t, started, "the handler to start")
	c.cancel("t1", pb.FailureReason_FAILURE_REASON_CANCELLED, "user asked")

	cause := recv(t, causes, "the handler's context to end")
	var ce *worker.CancelledError
	if !errors.As(cause, &ce) || ce.Reason != pb.FailureReason_FAILURE_REASON_CANCELLED || ce.Message != "user asked" {
		t.Fatalf("cause = %v, want a CancelledError CANCELLED / user asked", cause)
	}
	if got := cause.Error(); got != "task cancelled: CANCELLED: user asked" {
		t.Errorf("cause message = %q", got)
	}

	// Give the late result every chance to be sent, then prove it was not:
	// the next messages are the pong and another task's result.
	time.Sleep(50 * time.Millisecond)
	c.pong(1)
	c.invoke("t2", "quick", map[string]any{})
	c.result("t2")

	// A cancellation of a task that is not running is ignored.
	c.cancel("t9", pb.FailureReason_FAILURE_REASON_SHUTDOWN, "")
	c.pong(2)
}

func TestHardTimeoutEndsTheHandlerEvenWithoutCancellation(t *testing.T) {
	started, causes := make(chan string, 1), make(chan error, 1)
	_, c := serve(t, worker.Options{}, tool("wait", causeRecorder(started, causes)))

	begin := time.Now()
	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Invocation{Invocation: &pb.Invocation{
		TaskId: "t1", ToolName: "wait", HardTimeoutSeconds: 0.05,
	}}})
	recv(t, started, "the handler to start")
	cause := recv(t, causes, "the hard timeout")
	var ce *worker.CancelledError
	if !errors.As(cause, &ce) || ce.Reason != pb.FailureReason_FAILURE_REASON_HARD_TIMEOUT {
		t.Fatalf("cause = %v, want a HARD_TIMEOUT CancelledError", cause)
	}
	// The server's own Cancellation gets a grace second to arrive first.
	if elapsed := time.Since(begin); elapsed < time.Second {
		t.Errorf("the context ended after %v, before the grace period", elapsed)
	}
	// Nobody cancelled the task, so the handler's progress and answer still go out.
	if p := c.next().GetProgress(); p.GetMessage() != "after cancel" {
		t.Errorf("progress = %v", p)
	}
	if r := c.result("t1"); r.GetResult() != "late result" {
		t.Errorf("result = %v", r)
	}
}

func TestStreamEndCancelsHandlersAndReconnects(t *testing.T) {
	srv, conn := startServer(t)
	started, causes := make(chan string, 1), make(chan error, 1)
	var registrations atomic.Int32
	w := newWorker(t, worker.Options{Name: "w", OnRegistered: func(string) { registrations.Add(1) }},
		tool("wait", causeRecorder(started, causes)))
	run(t, w, conn)

	first := srv.accept(t)
	want := first.register(&pb.WorkerRegistered{WorkerId: "w-1"})
	first.invoke("t1", "wait", map[string]any{})
	recv(t, started, "the handler to start")
	first.close(status.Error(codes.Unavailable, "server shutting down"))

	if cause := recv(t, causes, "the handler's context to end"); !errors.Is(cause, worker.ErrConnectionLost) {
		t.Errorf("cause = %v, want ErrConnectionLost", cause)
	}

	second := srv.accept(t)
	again := second.register(&pb.WorkerRegistered{WorkerId: "w-2"})
	if again.String() != want.String() {
		t.Errorf("re-registration %v differs from the first %v", again, want)
	}
	// The lost task's late result and progress stay dropped on the new stream.
	time.Sleep(50 * time.Millisecond)
	second.pong(7)
	if n := registrations.Load(); n != 2 {
		t.Errorf("OnRegistered called %d times, want 2", n)
	}
	if id := w.WorkerID(); id != "w-2" {
		t.Errorf("WorkerID = %q, want w-2", id)
	}

	// A clean end (io.EOF on the worker's side) reconnects too.
	second.close(nil)
	srv.accept(t).register(&pb.WorkerRegistered{WorkerId: "w-3"})
}

func TestStopCancelsHandlersAndWaitsForThem(t *testing.T) {
	started := make(chan string, 1)
	var cause atomic.Value
	var returned atomic.Bool
	r, c := serve(t, worker.Options{}, tool("slow_to_stop", func(ctx context.Context, call *worker.Call) (any, error) {
		started <- call.TaskID
		<-ctx.Done()
		cause.Store(context.Cause(ctx))
		time.Sleep(100 * time.Millisecond) // cleaning up
		returned.Store(true)
		return nil, ctx.Err()
	}))

	c.invoke("t1", "slow_to_stop", map[string]any{})
	recv(t, started, "the handler to start")
	if err := r.stop(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if !returned.Load() {
		t.Error("Run returned before the handler did")
	}
	if got, _ := cause.Load().(error); !errors.Is(got, worker.ErrStopped) {
		t.Errorf("cause = %v, want ErrStopped", got)
	}
}
