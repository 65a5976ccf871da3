package worker_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/taskservice/taskservice/clients/go/worker"
)

func TestPingIsAnsweredWhileEveryHandlerIsBusy(t *testing.T) {
	const handlers = 4
	started, release := make(chan string, handlers), make(chan struct{})
	// Busy handlers: each floods progress until released.
	busy := func(ctx context.Context, call *worker.Call) (any, error) {
		started <- call.TaskID
		for i := 0; ; i++ {
			select {
			case <-release:
				return "done", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			default:
				call.Progress(float64(i%100)/100, "busy")
			}
		}
	}
	_, c := serve(t, worker.Options{MaxConcurrency: handlers}, tool("busy", busy))

	for i := range handlers {
		c.invoke(fmt.Sprintf("t%d", i), "busy", map[string]any{})
	}
	for range handlers {
		recv(t, started, "the handlers to start")
	}
	for seq := uint64(1); seq <= 3; seq++ {
		begin := time.Now()
		c.ping(seq)
		for {
			m := c.next()
			if m.GetProgress() != nil {
				continue
			}
			if m.GetPong().GetSequence() != seq {
				t.Fatalf("want Pong %d, got %v", seq, m)
			}
			break
		}
		if d := time.Since(begin); d > time.Second {
			t.Errorf("Pong %d took %v", seq, d)
		}
	}

	close(release)
	results := 0
	for results < handlers {
		if m := c.next(); m.GetResult() != nil {
			results++
		}
	}
}

func TestConfigurationErrorsAreReturnedWithoutRetrying(t *testing.T) {
	for _, code := range []codes.Code{codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists,
		codes.Unauthenticated, codes.PermissionDenied} {
		t.Run(code.String(), func(t *testing.T) {
			srv, conn := startServer(t)
			r := run(t, newWorker(t, worker.Options{Name: "w"}, tool("x", nop)), conn)
			c := srv.accept(t)
			if c.next().GetRegister() == nil {
				t.Fatal("the first message is not RegisterWorker")
			}
			c.close(status.Error(code, "tool x: parameters differ from worker w-0's"))

			err := r.result(t)
			if status.Code(err) != code || !strings.Contains(err.Error(), "tool x: parameters differ from worker w-0's") {
				t.Fatalf("Run = %v, want %v with the server's message", err, code)
			}
			srv.noConnection(t, "after a configuration error")
		})
	}
}

func TestUnavailableServerIsRetried(t *testing.T) {
	srv, conn := startServer(t)
	run(t, newWorker(t, worker.Options{}, tool("x", nop)), conn)
	begin := time.Now()
	for range 3 {
		c := srv.accept(t)
		c.next()
		c.close(status.Error(codes.Unavailable, "not ready"))
	}
	c := srv.accept(t)
	c.register(&pb.WorkerRegistered{WorkerId: "w-1"})
	c.pong(1)
	// Three failed attempts wait about 50-100, 100-200 and 200-400 ms.
	if d := time.Since(begin); d < 350*time.Millisecond || d > 3*time.Second {
		t.Errorf("three retries took %v, want the backoff's 350 ms to 700 ms", d)
	}
}

func TestSilentServerIsLeftForANewConnection(t *testing.T) {
	srv, conn := startServer(t)
	run(t, newWorker(t, worker.Options{}, tool("x", nop)), conn)
	c := srv.accept(t)
	// Silent for 0.5 s (the timeout, over 3 intervals), the server is given up.
	c.register(&pb.WorkerRegistered{WorkerId: "w-1", PingIntervalSeconds: 0.1, TimeoutSeconds: 0.5})
	c.pong(1)
	c.pong(2)
	lastHeard := time.Now()
	srv.accept(t).register(&pb.WorkerRegistered{WorkerId: "w-2"})
	if d := time.Since(lastHeard); d < 400*time.Millisecond || d > 3*time.Second {
		t.Errorf("reconnected after %v of silence, want about 0.5 s", d)
	}
}

func TestNoGoroutineOutlivesRun(t *testing.T) {
	srv, conn := startServer(t)
	started := make(chan string, 4)
	slowToStop := func(ctx context.Context, call *worker.Call) (any, error) {
		started <- call.TaskID
		<-ctx.Done()
		time.Sleep(200 * time.Millisecond) // cleaning up
		return nil, ctx.Err()
	}
	w := newWorker(t, worker.Options{}, tool("wait", slowToStop))
	r := run(t, w, conn)

	// A lost connection with a handler in flight, then one running at stop.
	first := srv.accept(t)
	first.register(&pb.WorkerRegistered{WorkerId: "w-1", PingIntervalSeconds: 10})
	first.invoke("t1", "wait", map[string]any{})
	recv(t, started, "t1 to start")
	first.close(status.Error(codes.Unavailable, "drop"))
	second := srv.accept(t)
	second.register(&pb.WorkerRegistered{WorkerId: "w-2", PingIntervalSeconds: 10})
	second.invoke("t2", "wait", map[string]any{})
	recv(t, started, "t2 to start")
	second.pong(1)
	if len(workerGoroutines()) == 0 {
		t.Fatal("workerGoroutines sees none of the running worker's goroutines")
	}

	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	// Run waited for its goroutines, so none may remain; the bound only
	// covers a goroutine between its last line and its exit, and is well
	// under the handlers' 200 ms cleanup.
	deadline := time.Now().Add(100 * time.Millisecond)
	for {
		left := workerGoroutines()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the worker outlived Run:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// workerGoroutines returns the stacks of the goroutines running code of the
// worker package (not its tests).
func workerGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "/clients/go/worker.") {
			found = append(found, g)
		}
	}
	return found
}
