package worker

import (
	"strings"
	"testing"
	"unicode/utf8"

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
		case m.GetOutput() != nil:
			sent = append(sent, "output "+m.GetOutput().GetTaskId()+" "+m.GetOutput().GetText())
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

func TestOutboxJoinsOutputWrittenInARowAndKeepsItInOrder(t *testing.T) {
	var o outbox
	o.outputText("a", "a1 ")
	o.outputText("b", "b1 ")
	o.outputText("a", "a2 ") // a's last queued message is still its output: joined
	o.progressUpdate("a", 0.5, "p1")
	o.outputText("a", "a3 ") // after the progress: a new message
	o.progressUpdate("a", 0.6, "p2")
	o.progressUpdate("a", 0.7, "p3") // coalesced with p2, which is after a3: order kept
	o.result(&pb.InvocationResult{TaskId: "a"})
	equal(t, drain(&o), []string{"output a a1 a2 ", "output b b1 ", "progress a p1", "output a a3 ", "progress a p3", "result a"})
}

func TestOutboxNeverMovesProgressAheadOfOutput(t *testing.T) {
	var o outbox
	o.progressUpdate("a", 0.1, "p1")
	o.outputText("a", "tick 1\n")
	o.progressUpdate("a", 0.2, "p2") // p1 is before the output, so p2 must not replace it
	o.outputText("a", "tick 2\n")
	equal(t, drain(&o), []string{"progress a p1", "output a tick 1\n", "progress a p2", "output a tick 2\n"})
}

func TestOutboxDoesNotChangeOutputOnceTaken(t *testing.T) {
	var o outbox
	o.outputText("a", "one")
	first := o.next()
	o.outputText("a", "two")
	if got := first.GetOutput().GetText(); got != "one" {
		t.Fatalf("a taken message changed to %q", got)
	}
	equal(t, drain(&o), []string{"output a two"})
}

func TestOutboxSplitsLargeOutputAtRuneBoundaries(t *testing.T) {
	var o outbox
	o.outputText("a", "x")
	big := "x" + strings.Repeat("é", maxOutputMessage) // 2-byte runes; the first message has an odd byte
	o.outputText("a", big)
	var joined strings.Builder
	n := 0
	for m := o.next(); m != nil; m = o.next() {
		text := m.GetOutput().GetText()
		if len(text) > maxOutputMessage || !utf8.ValidString(text) {
			t.Fatalf("message %d: %d bytes, valid UTF-8 %v", n, len(text), utf8.ValidString(text))
		}
		joined.WriteString(text)
		n++
	}
	if joined.String() != "x"+big || n != 3 {
		t.Fatalf("%d messages, joined %d bytes; want 3 and %d", n, joined.Len(), len(big)+1)
	}
}

func TestOutboxDropsACancelledTasksOutput(t *testing.T) {
	var o outbox
	o.outputText("a", "a1")
	o.outputText("b", "b1")
	o.drop("a")
	o.outputText("a", "late") // the session refuses this; the outbox must not mix it into a dropped message
	equal(t, drain(&o), []string{"output b b1", "output a late"})
}
