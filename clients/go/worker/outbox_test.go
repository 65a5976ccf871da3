package worker

import (
	"testing"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// drain lists what the sender would send, in order, as short strings.
func drain(o *outbox) []string {
	var sent []string
	for m := o.next(); m != nil; m = o.next() {
		switch {
		case m.GetPong() != nil:
			sent = append(sent, "pong")
		case m.GetProgress() != nil:
			sent = append(sent, "progress "+m.GetProgress().GetTaskId()+" "+m.GetProgress().GetMessage())
		case m.GetResult() != nil:
			sent = append(sent, "result "+m.GetResult().GetTaskId())
		case m.GetInputRequest() != nil:
			sent = append(sent, "question "+m.GetInputRequest().GetTaskId()+" "+m.GetInputRequest().GetMessage())
		}
	}
	return sent
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sent %q, want %q", got, want)
		}
	}
}

func TestOutboxSendsPongsFirstAndTheRestInOrder(t *testing.T) {
	var o outbox
	o.progressUpdate("a", 0.1, "a1")
	o.result(&pb.InvocationResult{TaskId: "b"})
	o.pong(1)
	o.progressUpdate("c", 0.1, "c1")
	o.pong(2)
	equal(t, drain(&o), []string{"pong", "pong", "progress a a1", "result b", "progress c c1"})
}

func TestOutboxCoalescesPendingProgress(t *testing.T) {
	var o outbox
	o.progressUpdate("a", 0.1, "a1")
	o.progressUpdate("b", 0.1, "b1")
	o.progressUpdate("a", 0.2, "a2") // replaces a1 where it stands
	equal(t, drain(&o), []string{"progress a a2", "progress b b1"})

	// Once sent, an update is not touched again: the next one is new.
	o.progressUpdate("a", 0.3, "a3")
	first := o.next()
	o.progressUpdate("a", 0.4, "a4")
	if first.GetProgress().GetMessage() != "a3" {
		t.Fatalf("a sent update changed to %v", first)
	}
	equal(t, drain(&o), []string{"progress a a4"})
}

func TestOutboxKeepsProgressBeforeTheResult(t *testing.T) {
	var o outbox
	o.progressUpdate("a", 0.5, "a1")
	o.result(&pb.InvocationResult{TaskId: "a"})
	equal(t, drain(&o), []string{"progress a a1", "result a"})
}

func TestOutboxDropsACancelledTask(t *testing.T) {
	var o outbox
	o.progressUpdate("a", 0.5, "a1")
	o.progressUpdate("b", 0.5, "b1")
	o.inputRequest("a", "Go?", `{"type":"object"}`)
	o.result(&pb.InvocationResult{TaskId: "a"})
	o.pong(3)
	o.drop("a")
	equal(t, drain(&o), []string{"pong", "progress b b1"})
}

func TestOutboxKeepsProgressInOrderAroundAQuestion(t *testing.T) {
	var o outbox
	o.progressUpdate("a", 0.1, "a1")
	o.progressUpdate("a", 0.2, "a2") // still coalesced before the question
	o.inputRequest("a", "Go?", `{"type":"object"}`)
	o.progressUpdate("a", 0.3, "a3") // after it: a new message, not a2 changed
	o.progressUpdate("a", 0.4, "a4")
	equal(t, drain(&o), []string{"progress a a2", "question a Go?", "progress a a4"})
}
