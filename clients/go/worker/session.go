package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc"
)

// hardTimeoutGrace is how long after the server's hard timeout a handler's
// context ends on its own. The server's Cancellation is what normally stops
// the handler; the local deadline only covers a Cancellation that never
// arrives, and comes later so that a handler giving up on it cannot beat the
// server's own verdict (HARD_TIMEOUT) with an error result.
const hardTimeoutGrace = time.Second

// session is one registered stream: it dispatches what the server sends and
// tracks the invocations it started, so that their results, cancellations
// and the end of the stream each reach the right handler exactly once.
type session struct {
	w      *Worker
	stream grpc.BidiStreamingClient[pb.ConnectRequest, pb.ConnectResponse]
	tools  map[string]*Tool
	base   context.Context // parent of the handlers' contexts
	wake   chan struct{}   // tells the sender the outbox has something
	heard  func()          // called on every message from the server; may be nil

	mu       sync.Mutex
	out      outbox
	inflight map[string]*invocation // by task id; only those whose result is still wanted
	perTool  map[string]int         // len(inflight) by tool
	closed   bool
}

// invocation is a running handler as the session sees it.
type invocation struct {
	taskID string
	tool   string
	cancel context.CancelCauseFunc
	// settled (guarded by session.mu) is set once the task needs nothing
	// more from the handler: its result is queued, or the server cancelled
	// it, or the stream ended. Progress and results after that are dropped.
	settled bool
	// cause (guarded by session.mu) is what the handler's context is
	// cancelled with when the server cancelled the task or the stream
	// ended; nil while it runs and after it returned. It is set with
	// settled, before the context is cancelled, so a question asked in
	// between is refused with the right cause.
	cause error
	// question (guarded by session.mu) is where the server's InvocationInput
	// goes while the call's question is open on the server: sent and not yet
	// answered (or refused). Buffered for that one message, so delivering
	// it never waits, even when RequestInput gave up waiting.
	question chan *pb.InvocationInput
}

func newSession(w *Worker, stream grpc.BidiStreamingClient[pb.ConnectRequest, pb.ConnectResponse],
	tools map[string]*Tool, base context.Context) *session {
	return &session{
		w:        w,
		stream:   stream,
		tools:    tools,
		base:     base,
		wake:     make(chan struct{}, 1),
		inflight: make(map[string]*invocation),
		perTool:  make(map[string]int),
	}
}

// receive handles the server's messages until the stream ends. It never
// waits for a handler, so pings are answered however busy the tools are.
func (s *session) receive() error {
	for {
		m, err := s.stream.Recv()
		if err != nil {
			return err
		}
		if s.heard != nil {
			s.heard()
		}
		switch m := m.GetMessage().(type) {
		case *pb.ConnectResponse_Ping:
			s.queue(func(o *outbox) { o.pong(m.Ping.GetSequence()) })
		case *pb.ConnectResponse_Invocation:
			s.start(m.Invocation)
		case *pb.ConnectResponse_Cancellation:
			s.cancelTask(m.Cancellation)
		case *pb.ConnectResponse_Input:
			s.input(m.Input)
		default:
			s.w.log.Warn("worker: ignoring an unexpected message from the server", "message", fmt.Sprintf("%T", m))
		}
	}
}

// start runs an invocation's handler in its own goroutine, unless the worker
// has no such tool or is over a limit: then it answers with an error at once.
func (s *session) start(in *pb.Invocation) {
	call := newCall(in)
	log := s.w.log.With("task_id", call.TaskID, "tool", call.ToolName)
	tool := s.tools[call.ToolName]
	if tool == nil {
		s.reject(log, call.TaskID, fmt.Sprintf("worker %q has no tool %q", s.w.name, call.ToolName))
		return
	}

	// The context exists before the invocation is tracked, so whoever
	// settles it (a cancellation, the stream's end) can always cancel it.
	ctx, cancel := context.WithCancelCause(s.base)
	ctx, stopTimer := withHardTimeout(ctx, call.HardTimeout)
	release := func() { stopTimer(); cancel(nil) }
	inv := &invocation{taskID: call.TaskID, tool: tool.Name, cancel: cancel}
	call.report = func(fraction float64, message string) { s.progress(inv, fraction, message) }
	call.write = func(text string) { s.output(inv, text) }
	call.ask = func(qctx context.Context, message, schemaJSON string) (*pb.InvocationInput, error) {
		return s.ask(ctx, qctx, inv, message, schemaJSON)
	}

	s.mu.Lock()
	if _, running := s.inflight[inv.taskID]; running {
		s.mu.Unlock()
		release()
		log.Warn("worker: ignoring a repeated invocation of a running task")
		return
	}
	if refusal := s.overLimit(tool); refusal != "" {
		s.mu.Unlock()
		release()
		s.reject(log, call.TaskID, refusal)
		return
	}
	s.inflight[inv.taskID] = inv
	s.perTool[inv.tool]++
	s.w.handlers.Add(1)
	s.mu.Unlock()

	log.Debug("worker: invocation started")
	go func() {
		defer s.w.handlers.Done()
		defer release() // also ends whatever the handler left waiting on ctx
		res, panicStack := invoke(ctx, tool.Handler, call)
		if panicStack != nil {
			log.Error("worker: handler panicked", "error", res.GetError(), "stack", string(panicStack))
		}
		s.finish(inv, res)
	}()
}

// overLimit says why one more invocation of tool may not run now, or "" if
// it may. It runs under s.mu. The server keeps to the declared limits;
// checking them here too keeps a server bug from overloading the worker.
func (s *session) overLimit(tool *Tool) string {
	if limit := s.w.maxConc; limit > 0 && len(s.inflight) >= limit {
		return fmt.Sprintf("worker %q is at its MaxConcurrency (%d invocations running)", s.w.name, limit)
	}
	if limit := tool.Concurrency; limit > 0 && s.perTool[tool.Name] >= limit {
		return fmt.Sprintf("tool %q is at its Concurrency (%d invocations running on worker %q)", tool.Name, limit, s.w.name)
	}
	return ""
}

// withHardTimeout ends ctx a grace period after the server's hard timeout,
// with the cause the server's Cancellation would have given.
func withHardTimeout(ctx context.Context, hard time.Duration) (context.Context, context.CancelFunc) {
	if hard <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, hard+hardTimeoutGrace, &CancelledError{
		Reason:  pb.FailureReason_FAILURE_REASON_HARD_TIMEOUT,
		Message: fmt.Sprintf("hard timeout of %v passed", hard),
	})
}

// reject answers an invocation that will not run with an error result, so
// the task fails with a reason instead of waiting for its timeout.
func (s *session) reject(log *slog.Logger, taskID, reason string) {
	log.Warn("worker: invocation refused", "reason", reason)
	s.queue(func(o *outbox) { o.result(failure(taskID, reason)) })
}

func (s *session) progress(inv *invocation, fraction float64, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.settled || s.closed {
		return
	}
	s.out.progressUpdate(inv.taskID, fraction, message)
	s.kick()
}

// output queues output the handler wrote, unless the task is settled.
func (s *session) output(inv *invocation, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.settled || s.closed {
		return
	}
	s.out.outputText(inv.taskID, text)
	s.kick()
}

// finish queues a handler's result, unless the task was settled meanwhile.
// The invocation stops counting against the limits before its result can
// reach the server: the server may start the next invocation as soon as it
// has the result, and that one must find the slot free.
func (s *session) finish(inv *invocation, res *pb.InvocationResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.settled {
		return
	}
	s.settle(inv)
	if !s.closed {
		s.out.result(res)
		s.kick()
	}
}

// cancelTask stops the handler of a task the server cancelled. The task is
// settled first, so nothing the handler still sends reaches the server.
func (s *session) cancelTask(c *pb.Cancellation) {
	s.mu.Lock()
	inv := s.inflight[c.GetTaskId()]
	if inv != nil {
		s.settle(inv)
		inv.cause = &CancelledError{Reason: c.GetReason(), Message: c.GetMessage()}
		s.out.drop(inv.taskID)
	}
	s.mu.Unlock()
	if inv == nil {
		// Already finished: the result crossed the cancellation.
		s.w.log.Debug("worker: cancellation of a task not running", "task_id", c.GetTaskId())
		return
	}
	s.w.log.Info("worker: task cancelled by the server", "task_id", inv.taskID, "reason", c.GetReason().String())
	inv.cancel(inv.cause)
}

// close settles every invocation when the stream has ended and cancels its
// handler with cause, since the server no longer waits for any of them.
func (s *session) close(cause error) {
	s.mu.Lock()
	s.closed = true
	lost := make([]*invocation, 0, len(s.inflight))
	for _, inv := range s.inflight {
		s.settle(inv)
		inv.cause = cause
		lost = append(lost, inv)
	}
	s.mu.Unlock()
	for _, inv := range lost {
		inv.cancel(cause)
	}
	if len(lost) > 0 {
		s.w.log.Warn("worker: in-flight invocations dropped", "count", len(lost), "cause", cause)
	}
}

// ask sends the call's question and waits for the server's InvocationInput,
// the end of the invocation (hctx, the handler's context) or the end of ctx.
// The handler's goroutine is the one that waits, and every invocation's
// hctx ends at the latest when the stream does, so nothing is left waiting
// after a disconnect.
func (s *session) ask(hctx, ctx context.Context, inv *invocation, message, schemaJSON string) (*pb.InvocationInput, error) {
	answer := make(chan *pb.InvocationInput, 1)
	s.mu.Lock()
	var err error
	switch {
	case inv.cause != nil: // cancelled or lost; hctx may not show it yet
		err = inv.cause
	case inv.settled:
		err = &InputRequestError{TaskID: inv.taskID, Message: "the handler has already returned"}
	case hctx.Err() != nil: // its hard timeout passed
		err = context.Cause(hctx)
	case ctx.Err() != nil:
		err = context.Cause(ctx)
	case inv.question != nil:
		err = &InputRequestError{TaskID: inv.taskID, Message: "another question of this call is still waiting for its answer"}
	default:
		inv.question = answer
		s.out.inputRequest(inv.taskID, message, schemaJSON)
		s.kick()
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}

	select {
	case in := <-answer:
		return in, nil
	case <-hctx.Done():
		return nil, context.Cause(hctx)
	case <-ctx.Done():
		if hctx.Err() != nil {
			return nil, context.Cause(hctx)
		}
		// An answer that came at the same moment is the task's, which the
		// server has already set running again: better used than lost.
		select {
		case in := <-answer:
			return in, nil
		default:
			return nil, context.Cause(ctx)
		}
	}
}

// input hands the server's InvocationInput to the call whose question is
// open. One for a task with no open question (the task has ended, or the
// server sent it twice) is dropped.
func (s *session) input(in *pb.InvocationInput) {
	s.mu.Lock()
	var waiting chan *pb.InvocationInput
	if inv := s.inflight[in.GetTaskId()]; inv != nil {
		waiting, inv.question = inv.question, nil
	}
	s.mu.Unlock()
	if waiting == nil {
		s.w.log.Debug("worker: input for a task with no open question", "task_id", in.GetTaskId())
		return
	}
	waiting <- in // never blocks: the channel holds this one message
}

// settle marks inv as needing nothing more and frees its slot. It runs under s.mu.
func (s *session) settle(inv *invocation) {
	inv.settled = true
	delete(s.inflight, inv.taskID)
	s.perTool[inv.tool]--
}
