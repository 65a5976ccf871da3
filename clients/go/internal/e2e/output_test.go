package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskservice/taskservice/clients/go/taskservice"
	"github.com/taskservice/taskservice/clients/go/worker"
)

// ticks is what the ticker writes for count ticks; label follows each number.
func ticks(count int, label string) string {
	var b strings.Builder
	for i := 1; i <= count; i++ {
		fmt.Fprintf(&b, "tick %d%s\n", i, label)
	}
	return b.String()
}

// seen is what a follower (Await or ExecuteStream) saw of one task, checked
// as it goes: output contiguous from byte 0, states in strictly growing
// versions, nothing after the terminal update.
type seen struct {
	output   strings.Builder
	statuses []taskservice.Status // one per state seen
	versions []uint64
	kinds    []string
	terminal *taskservice.Task
	answer   *taskservice.Execution
	// inline and later count the pieces of output before and after the answer.
	inline, later int
}

func (s *seen) state(t *testing.T, what string, task *taskservice.Task) {
	t.Helper()
	if s.terminal != nil {
		t.Fatalf("%s after the terminal update", what)
	}
	if n := len(s.versions); n > 0 && task.Version <= s.versions[n-1] {
		t.Fatalf("%s has version %d after version %d: a state seen twice or out of order (kinds %v)", what, task.Version, s.versions[n-1], s.kinds)
	}
	s.versions = append(s.versions, task.Version)
	s.statuses = append(s.statuses, task.Status)
}

func (s *seen) piece(t *testing.T, chunk *taskservice.OutputChunk) {
	t.Helper()
	if chunk.Offset != uint64(s.output.Len()) || chunk.Text == "" {
		t.Fatalf("output piece at byte %d (%d bytes) after %d bytes: lost or repeated output", chunk.Offset, len(chunk.Text), s.output.Len())
	}
	s.output.WriteString(chunk.Text)
	if s.answer == nil {
		s.inline++
	} else {
		s.later++
	}
}

func (s *seen) update(t *testing.T, u *taskservice.Update) {
	t.Helper()
	s.kinds = append(s.kinds, u.Kind.String())
	switch u.Kind {
	case taskservice.UpdateOutput:
		s.piece(t, u.Output)
	case taskservice.UpdateHeartbeat:
	case taskservice.UpdateWaitTimedOut:
		t.Fatalf("the wait limit passed")
	default:
		s.state(t, u.Kind.String(), u.Task)
		if u.Kind == taskservice.UpdateTerminal {
			s.terminal = u.Task
		}
	}
}

func (s *seen) event(t *testing.T, ev taskservice.Event) {
	t.Helper()
	switch ev.Kind {
	case taskservice.EventOutput:
		if s.answer != nil {
			t.Fatal("inline output after the answer")
		}
		s.piece(t, ev.Output)
	case taskservice.EventProgress:
		if s.answer != nil {
			t.Fatal("inline progress after the answer")
		}
	case taskservice.EventAnswer:
		if s.answer != nil {
			t.Fatal("a second answer")
		}
		s.answer = ev.Answer
		if ev.Answer.Task.ID != "" {
			s.state(t, "the answer", ev.Answer.Task)
		}
	case taskservice.EventUpdate:
		if s.answer == nil || !s.answer.Backgrounded {
			t.Fatalf("an update without a backgrounded answer before it")
		}
		if (ev.Output != nil) != (ev.Update.Kind == taskservice.UpdateOutput) || (ev.Output != nil && ev.Output != ev.Update.Output) {
			t.Fatalf("event output %v for a %v update", ev.Output, ev.Update.Kind)
		}
		s.update(t, ev.Update)
	}
}

// statusChanges is the statuses seen with repeats of the same one folded:
// every change once.
func (s *seen) statusChanges() []taskservice.Status {
	var changes []taskservice.Status
	for _, st := range s.statuses {
		if len(changes) == 0 || changes[len(changes)-1] != st {
			changes = append(changes, st)
		}
	}
	return changes
}

// ranToCompletion checks that the task ran and completed, each status once.
func (s *seen) ranToCompletion(t *testing.T, result string) {
	t.Helper()
	if s.terminal == nil || s.terminal.Status != taskservice.StatusCompleted || s.terminal.Result != result {
		t.Fatalf("terminal = %+v, want COMPLETED with %q", s.terminal, result)
	}
	got := s.statusChanges()
	if len(got) != 2 || got[0] != taskservice.StatusRunning || got[1] != taskservice.StatusCompleted {
		t.Errorf("status changes = %v, want RUNNING then COMPLETED", got)
	}
	if n := uint64(s.output.Len()); s.terminal.OutputBytes != n || s.terminal.OutputTruncated {
		t.Errorf("terminal task counts %d output bytes (truncated %v), %d were seen", s.terminal.OutputBytes, s.terminal.OutputTruncated, n)
	}
}

// writer is a worker tool writing lines of text paced by a short sleep,
// reporting progress, and then one large piece.
func writer(name string, lines int, big string) worker.Tool {
	return worker.Tool{Name: name, Description: "Writes output.", Handler: func(ctx context.Context, call *worker.Call) (any, error) {
		for i := 1; i <= lines; i++ {
			call.Output(fmt.Sprintf("tick %d ✓ héllo\n", i))
			call.Progress(float64(i)/float64(lines), fmt.Sprintf("line %d", i))
			select {
			case <-time.After(40 * time.Millisecond):
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
		}
		call.Output(big)
		return "wrote", nil
	}}
}

func TestAWorkersOutputComesBackThroughAwaitAndReadOutput(t *testing.T) {
	// 1.5 MiB: more than one message on every hop, and more than one read.
	big := strings.Repeat("0123456789abcdé\n", 96*1024)
	startWorker(t, writer("go_writer", 10, big))
	c := dialClient(t)
	want := ticks(10, " ✓ héllo") + big

	exec, err := c.Execute(ctxFor(t), "go_writer", nil, taskservice.WithUser(user(t)), taskservice.WithBudget(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !exec.Backgrounded {
		t.Fatalf("execution = %+v, want backgrounded", exec)
	}
	var s seen
	for u, err := range exec.Handle.Await(ctxFor(t), taskservice.WithOutput(0)) {
		if err != nil {
			t.Fatal(err)
		}
		s.update(t, &u)
	}
	s.ranToCompletion(t, "wrote")
	if s.output.String() != want {
		t.Fatalf("Await's output: %d bytes, want %d (equal: %v)", s.output.Len(), len(want), s.output.String() == want)
	}

	chunk, task, err := exec.Handle.ReadOutput(ctxFor(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if chunk.Offset != 0 || chunk.Text != want || task.OutputBytes != uint64(len(want)) || !task.Done() {
		t.Fatalf("ReadOutput = %d bytes from %d, task %d bytes %v; want %d bytes", len(chunk.Text), chunk.Offset, task.OutputBytes, task.Status, len(want))
	}
	// From the middle of the output (a byte offset, after a multi-byte rune).
	from := uint64(strings.Index(want, "tick 4"))
	if chunk, _, err := c.ReadOutput(ctxFor(t), exec.Task.ID, from, taskservice.WithUser(user(t))); err != nil || chunk.Text != want[from:] {
		t.Errorf("ReadOutput from %d = %d bytes, %v; want %d bytes", from, len(chunk.Text), err, len(want)-int(from))
	}
	// Following a finished task from an offset: the rest, then its terminal update.
	var rest seen
	rest.output.WriteString(want[:len(want)-10])
	for u, err := range exec.Handle.Await(ctxFor(t), taskservice.WithOutput(uint64(len(want)-10))) {
		if err != nil {
			t.Fatal(err)
		}
		rest.update(t, &u)
	}
	if rest.output.String() != want || rest.terminal == nil || len(rest.kinds) != 2 {
		t.Errorf("the last 10 bytes: kinds %v, output ends %q", rest.kinds, rest.output.String()[len(want)-20:])
	}
}

func TestOutputPastTheServersLimitEndsWithTheMarker(t *testing.T) {
	startWorker(t, worker.Tool{Name: "go_flood", Description: "Writes too much.", Handler: func(ctx context.Context, call *worker.Call) (any, error) {
		piece := strings.Repeat("x", 1000) + "\n"
		for range maxOutputBytes/len(piece) + 100 {
			call.Output(piece)
		}
		return "flooded", nil
	}})
	c := dialClient(t)
	exec, err := c.Execute(ctxFor(t), "go_flood", nil, taskservice.WithUser(user(t)), taskservice.WithRequestID(fmt.Sprintf("flood-%s-%d", user(t), time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	task, err := exec.Handle.Wait(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	chunk, _, err := exec.Handle.ReadOutput(ctxFor(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !task.OutputTruncated || task.OutputBytes > maxOutputBytes || uint64(len(chunk.Text)) != task.OutputBytes ||
		!strings.Contains(chunk.Text[len(chunk.Text)-200:], "TASKSERVICE_MAX_OUTPUT_BYTES") {
		t.Errorf("task: %d bytes, truncated %v; read %d bytes ending %q", task.OutputBytes, task.OutputTruncated, len(chunk.Text), chunk.Text[max(0, len(chunk.Text)-120):])
	}
}

func TestTickerInlineThroughExecuteStream(t *testing.T) {
	c := dialClient(t)
	var s seen
	for ev, err := range c.ExecuteStream(ctxFor(t), "ticker", map[string]any{"count": 3, "interval_seconds": 0}, taskservice.WithUser(user(t))) {
		if err != nil {
			t.Fatal(err)
		}
		s.event(t, ev)
	}
	if s.answer == nil || s.answer.Backgrounded || s.answer.Text != "ticked 3" || s.answer.Task.Status != taskservice.StatusCompleted {
		t.Fatalf("answer = %+v", s.answer)
	}
	if s.output.String() != ticks(3, "") || s.later != 0 {
		t.Errorf("output = %q (%d pieces after the answer), want every tick inline", s.output.String(), s.later)
	}
}

func TestTickerThroughExecuteStreamInlineThenBackgrounded(t *testing.T) {
	c := dialClient(t)
	var s seen
	progress := 0
	args := map[string]any{"count": 10, "interval_seconds": 0.1}
	for ev, err := range c.ExecuteStream(ctxFor(t), "ticker", args, taskservice.WithUser(user(t)), taskservice.WithBudget(450*time.Millisecond)) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == taskservice.EventProgress {
			progress++
		}
		s.event(t, ev)
	}
	if s.answer == nil || !s.answer.Backgrounded || s.answer.Handle == nil {
		t.Fatalf("answer = %+v, want backgrounded", s.answer)
	}
	s.ranToCompletion(t, "ticked 10")
	if s.output.String() != ticks(10, "") {
		t.Errorf("output = %q", s.output.String())
	}
	if s.inline == 0 || s.later == 0 || progress == 0 {
		t.Errorf("%d pieces of output inline, %d after the answer, %d inline progress events; want some of each", s.inline, s.later, progress)
	}
}

// dialVia is a client of the server through p, closed when the test ends.
func dialVia(t *testing.T, p *proxy) *taskservice.Client {
	t.Helper()
	c, err := taskservice.Dial(p.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// cutAt severs p's connections when the output seen first contains each mark.
type cutAt struct {
	p     *proxy
	marks []string
	cuts  int
}

func (c *cutAt) check(t *testing.T, output string) {
	t.Helper()
	if len(c.marks) > 0 && strings.Contains(output, c.marks[0]) {
		c.marks = c.marks[1:]
		if n := c.p.sever(); n == 0 {
			t.Fatal("the proxy carried no connection to cut")
		}
		c.cuts++
	}
}

func TestExecuteStreamResumedThroughACutConnectionLosesNothing(t *testing.T) {
	needServer(t)
	p := startProxy(t, serverAddr)
	c := dialVia(t, p)
	cut := &cutAt{p: p, marks: []string{"tick 12\n", "tick 25\n", "tick 26\n"}}

	var s seen
	args := map[string]any{"count": 40, "interval_seconds": 0.05}
	for ev, err := range c.ExecuteStream(ctxFor(t), "ticker", args, taskservice.WithUser(user(t)), taskservice.WithBudget(300*time.Millisecond)) {
		if err != nil {
			t.Fatalf("after %d cuts: %v", cut.cuts, err)
		}
		s.event(t, ev)
		if s.answer != nil { // before the answer a cut is an error (no request id)
			cut.check(t, s.output.String())
		}
	}
	if cut.cuts != 3 {
		t.Fatalf("%d cuts, want 3 (the output was %q)", cut.cuts, s.output.String())
	}
	s.ranToCompletion(t, "ticked 40")
	if s.output.String() != ticks(40, "") {
		t.Errorf("output = %q", s.output.String())
	}
	if p.connections() < 4 {
		t.Errorf("%d connections through the proxy, want a new one after each cut", p.connections())
	}
}

func TestAwaitWithOutputResumedThroughACutConnectionLosesNothing(t *testing.T) {
	startWorker(t, writer("go_ticks", 30, "the end\n"))
	p := startProxy(t, serverAddr)
	c := dialVia(t, p)
	cut := &cutAt{p: p, marks: []string{"tick 5 ", "tick 17 ", "tick 18 "}}

	exec, err := dialClient(t).Execute(ctxFor(t), "go_ticks", nil, taskservice.WithUser(user(t)), taskservice.WithBudget(50*time.Millisecond))
	if err != nil || !exec.Backgrounded {
		t.Fatalf("Execute = %+v, %v; want backgrounded", exec, err)
	}
	var s seen
	for u, err := range c.Await(ctxFor(t), exec.Task.ID, taskservice.WithUser(user(t)), taskservice.WithOutput(0)) {
		if err != nil {
			t.Fatalf("after %d cuts: %v", cut.cuts, err)
		}
		s.update(t, &u)
		cut.check(t, s.output.String())
	}
	if cut.cuts != 3 || p.connections() < 4 {
		t.Fatalf("%d cuts, %d connections through the proxy; want 3 and a new one after each", cut.cuts, p.connections())
	}
	s.ranToCompletion(t, "wrote")
	if want := ticks(30, " ✓ héllo") + "the end\n"; s.output.String() != want {
		t.Errorf("output = %q, want %q", s.output.String(), want)
	}
	if n := strings.Count(strings.Join(s.kinds, " "), "SNAPSHOT"); n != 1 {
		t.Errorf("%d snapshots (%v), want 1", n, s.kinds)
	}
}

func TestExecuteStreamWithARequestIDSurvivesACutBeforeTheAnswer(t *testing.T) {
	needServer(t)
	p := startProxy(t, serverAddr)
	c := dialVia(t, p)
	cut := &cutAt{p: p, marks: []string{"tick 2\n"}}

	var s seen
	args := map[string]any{"count": 20, "interval_seconds": 0.05}
	opts := []taskservice.ExecOption{taskservice.WithUser(user(t)), taskservice.WithBudget(600 * time.Millisecond), taskservice.WithRequestID(fmt.Sprintf("cut-%s-%d", user(t), time.Now().UnixNano()))}
	for ev, err := range c.ExecuteStream(ctxFor(t), "ticker", args, opts...) {
		if err != nil {
			t.Fatalf("after %d cuts: %v", cut.cuts, err)
		}
		s.event(t, ev)
		if s.answer == nil {
			cut.check(t, s.output.String())
		}
	}
	if cut.cuts != 1 {
		t.Fatalf("%d cuts, want 1 before the answer (output %q)", cut.cuts, s.output.String())
	}
	if p.connections() < 2 {
		t.Errorf("%d connections through the proxy, want a new one after the cut", p.connections())
	}
	s.ranToCompletion(t, "ticked 20")
	if s.output.String() != ticks(20, "") {
		t.Errorf("output = %q", s.output.String())
	}
}
