package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/worker"
)

// TestOutputArrivesInOrderWithProgressAndBeforeTheResult writes output and
// progress without waiting for the connection, so pieces may be joined; what
// reaches the server must still be every byte, in order, with each progress
// update after the output written before it, and all of it before the result.
func TestOutputArrivesInOrderWithProgressAndBeforeTheResult(t *testing.T) {
	const ticks = 200
	calls := make(chan *worker.Call, 1)
	_, c := serve(t, worker.Options{}, tool("quick", nop), tool("ticker", func(ctx context.Context, call *worker.Call) (any, error) {
		for i := 1; i <= ticks; i++ {
			call.Output(fmt.Sprintf("tick %d\n", i))
			call.Progress(float64(i)/ticks, fmt.Sprint(i))
		}
		call.Output("")             // ignored
		call.Output("bad \xff end") // invalid UTF-8 would break the stream: replaced
		calls <- call
		return "ticked", nil
	}))

	c.invoke("t1", "ticker", map[string]any{})
	var output strings.Builder
	lastProgress := 0
	for {
		m := c.next()
		if r := m.GetResult(); r != nil {
			if r.GetTaskId() != "t1" || r.GetResult() != "ticked" {
				t.Fatalf("result = %v", r)
			}
			break
		}
		switch {
		case m.GetOutput() != nil:
			if m.GetOutput().GetTaskId() != "t1" || m.GetOutput().GetText() == "" {
				t.Fatalf("output = %v", m.GetOutput())
			}
			output.WriteString(m.GetOutput().GetText())
		case m.GetProgress() != nil:
			var n int
			fmt.Sscan(m.GetProgress().GetMessage(), &n)
			// Progress i is sent only after "tick i" (coalescing may skip some).
			if n <= lastProgress || !strings.HasSuffix(output.String(), fmt.Sprintf("tick %d\n", n)) {
				t.Fatalf("progress %d after output %q (previous progress %d)", n, tail(output.String()), lastProgress)
			}
			lastProgress = n
		default:
			t.Fatalf("unexpected message %v", m)
		}
	}
	var want strings.Builder
	for i := 1; i <= ticks; i++ {
		fmt.Fprintf(&want, "tick %d\n", i)
	}
	want.WriteString("bad \uFFFD end")
	if output.String() != want.String() {
		t.Fatalf("output = %q..., want %q...", tail(output.String()), tail(want.String()))
	}
	if lastProgress != ticks {
		t.Errorf("last progress %d, want %d", lastProgress, ticks)
	}

	// Output after the result is dropped: the next invocation's result is
	// the next message (the queue is first in, first out).
	recv(t, calls, "the call").Output("too late")
	c.invoke("t2", "quick", nil)
	c.result("t2")
}

func TestOutputOfACancelledTaskIsDropped(t *testing.T) {
	started := make(chan *worker.Call, 1)
	stopped := make(chan struct{})
	_, c := serve(t, worker.Options{}, tool("quick", nop), tool("writer", func(ctx context.Context, call *worker.Call) (any, error) {
		started <- call
		<-ctx.Done()
		call.Output("after the cancellation")
		close(stopped)
		return nil, ctx.Err()
	}))
	c.invoke("t1", "writer", nil)
	recv(t, started, "the handler")
	c.cancel("t1", pb.FailureReason_FAILURE_REASON_CANCELLED, "cancelled")
	recv(t, stopped, "the handler's end")
	// Nothing of t1 was queued before the next invocation's result.
	c.invoke("t2", "quick", nil)
	c.result("t2")
}

func TestHandWrittenCallIgnoresOutput(t *testing.T) {
	call := &worker.Call{ToolName: "x", Arguments: json.RawMessage(`{}`)}
	call.Output("nobody listens") // must not panic
}

func tail(s string) string {
	if len(s) > 40 {
		return s[len(s)-40:]
	}
	return s
}
