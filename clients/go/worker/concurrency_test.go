package worker_test

import (
	"fmt"
	"testing"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/worker"
)

// The server keeps to the declared limits; these tests play a server that
// does not, and check the worker refuses the excess instead of running it.

func TestMaxConcurrencyRefusesTheExcess(t *testing.T) {
	started, release := make(chan string, 4), make(chan struct{})
	_, c := serve(t, worker.Options{Name: "w", MaxConcurrency: 2},
		tool("a", blocking(started, release)), tool("b", blocking(started, release)))

	c.invoke("t1", "a", map[string]any{})
	c.invoke("t2", "b", map[string]any{})
	recv(t, started, "t1 or t2")
	recv(t, started, "t1 or t2")
	c.invoke("t3", "a", map[string]any{})
	if r := c.result("t3"); r.GetError() != `worker "w" is at its MaxConcurrency (2 invocations running)` {
		t.Fatalf("t3 = %v, want a MaxConcurrency refusal", r)
	}

	close(release)
	for range 2 { // t1 and t2, in either order
		if r := c.next().GetResult(); r.GetResult() != "released" {
			t.Fatalf("result = %v", r)
		}
	}
	c.invoke("t4", "a", map[string]any{})
	if r := c.result("t4"); r.GetResult() != "released" {
		t.Errorf("t4 = %v, want it run once slots are free", r)
	}
}

func TestToolConcurrencyRefusesTheExcess(t *testing.T) {
	started, release := make(chan string, 4), make(chan struct{})
	single := tool("single", blocking(started, release))
	single.Concurrency = 1
	_, c := serve(t, worker.Options{Name: "w"}, single, tool("other", blocking(started, release)))

	c.invoke("t1", "single", map[string]any{})
	recv(t, started, "t1")
	c.invoke("t2", "single", map[string]any{})
	if r := c.result("t2"); r.GetError() != `tool "single" is at its Concurrency (1 invocations running on worker "w")` {
		t.Fatalf("t2 = %v, want a Concurrency refusal", r)
	}
	c.invoke("t3", "other", map[string]any{}) // another tool is not limited by it
	recv(t, started, "t3")
	close(release)
	for range 2 {
		if r := c.next().GetResult(); r.GetResult() != "released" {
			t.Errorf("result = %v", r)
		}
	}
}

func TestASettledTaskFreesItsSlotAtOnce(t *testing.T) {
	started, causes := make(chan string, 1), make(chan error, 1)
	_, c := serve(t, worker.Options{MaxConcurrency: 1},
		tool("wait", causeRecorder(started, causes)), tool("quick", nop))

	// A result frees the slot before the server can see it: the server may
	// send the next invocation the moment it has the result.
	for i := range 50 {
		id := fmt.Sprintf("q%d", i)
		c.invoke(id, "quick", map[string]any{})
		if r := c.result(id); r.GetError() != "" {
			t.Fatalf("%s refused: %v", id, r)
		}
	}

	// A cancelled task frees its slot when cancelled, not when its handler
	// gets round to returning.
	c.invoke("t1", "wait", map[string]any{})
	recv(t, started, "t1")
	c.cancel("t1", pb.FailureReason_FAILURE_REASON_CANCELLED, "")
	c.invoke("t2", "quick", map[string]any{})
	if r := c.result("t2"); r.GetError() != "" {
		t.Fatalf("t2 refused after t1 was cancelled: %v", r)
	}
	recv(t, causes, "t1's cause")
}

func TestARepeatedInvocationIsIgnored(t *testing.T) {
	started, release := make(chan string, 2), make(chan struct{})
	_, c := serve(t, worker.Options{}, tool("a", blocking(started, release)))
	c.invoke("t1", "a", map[string]any{})
	recv(t, started, "t1")
	c.invoke("t1", "a", map[string]any{})
	c.pong(1) // no refusal was sent for the repeat
	close(release)
	c.result("t1")
	c.pong(2) // and exactly one result
	if len(started) != 0 {
		t.Error("the repeated invocation ran")
	}
}
