package taskservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// EventKind says what an ExecuteStream event carries.
type EventKind int

const (
	// EventOutput: output the tool wrote while the call waited inline
	// (Event.Output).
	EventOutput EventKind = iota + 1
	// EventProgress: the tool's latest progress while the call waited
	// inline (Event.Progress).
	EventProgress
	// EventAnswer: what Execute answers (Event.Answer). When it is not
	// backgrounded, it is the last event.
	EventAnswer
	// EventUpdate: after a backgrounded answer, an update of the task
	// (Event.Update), as Await(WithOutput) yields them, until its
	// UpdateTerminal.
	EventUpdate
)

func (k EventKind) String() string {
	switch k {
	case EventOutput:
		return "output"
	case EventProgress:
		return "progress"
	case EventAnswer:
		return "answer"
	case EventUpdate:
		return "update"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one event of ExecuteStream.
type Event struct {
	Kind EventKind
	// Output is a piece of the tool's output: set on EventOutput, and on an
	// EventUpdate whose Update.Kind is UpdateOutput. Across the whole
	// stream, inline and backgrounded, the pieces are the task's output
	// from byte 0, each byte once and in order.
	Output *OutputChunk
	// Progress is set on EventProgress.
	Progress *Progress
	// Answer is set on EventAnswer.
	Answer *Execution
	// Update is set on EventUpdate.
	Update *Update
}

// ExecuteStream runs a tool and follows it to the end in one call; it takes
// what Execute takes. It yields, in order: the tool's output and progress
// while the call waits inline (EventOutput, EventProgress), the answer
// Execute would give (EventAnswer), and, when that is backgrounded, the
// task's updates and the rest of its output (EventUpdate) until its
// UpdateTerminal. Every piece of output comes with Event.Output set, so
// printing those prints the whole output, once:
//
//	for ev, err := range client.ExecuteStream(ctx, "ticker", map[string]any{"count": 5, "interval_seconds": 1}) {
//		if err != nil {
//			return err
//		}
//		switch {
//		case ev.Output != nil:
//			fmt.Print(ev.Output.Text)
//		case ev.Kind == taskservice.EventAnswer && ev.Answer.Backgrounded:
//			fmt.Println("running as", ev.Answer.Task.ID)
//		case ev.Kind == taskservice.EventUpdate && ev.Update.Kind == taskservice.UpdateTerminal:
//			fmt.Println(ev.Update.Text)
//		}
//	}
//
// The sequence ends after the last event, or with one (Event{}, err) pair.
// Errors before the answer are Execute's (ErrNotFound for an unknown tool,
// ErrInvalidArgument, ...); a tool that fails is not one (see
// Execution.Err, and the terminal update's Task.Err). Breaking out of the
// loop closes the stream; a call still waiting inline then stops, as when
// Execute's caller goes away, while a backgrounded task runs on.
//
// A dropped stream (UNAVAILABLE: a replica shutting down, a lost
// connection):
//
//   - after a backgrounded answer, is resumed through AwaitResult as Await
//     resumes (RetryPolicy), from the last state and output byte yielded:
//     the loop sees every status change and every output byte once, as if
//     nothing happened. The server's wait limit is renewed the same way:
//     only the terminal update ends the stream (bound it with ctx);
//   - before the answer, is an error, as for Execute: the server stops a
//     call still waiting inline when its stream drops, so there is nothing
//     to follow. With WithRequestID the call is tracked from the start and
//     keeps running; ExecuteStream then sends it again (RetryPolicy), the
//     server answers for the same task instead of running the tool twice,
//     and the output already yielded is not repeated (what the tool wrote
//     in between is not lost either).
//
// A server without ExecuteStream (UNIMPLEMENTED, before 0.3) gets Execute,
// then AwaitResult: the same events, with no inline output or progress.
func (c *Client) ExecuteStream(ctx context.Context, tool string, args any, opts ...ExecOption) iter.Seq2[Event, error] {
	argsJSON, argsErr := argumentsJSON(args)
	req := executeRequest(tool, argsJSON, opts)
	return func(yield func(Event, error) bool) {
		if argsErr != nil {
			yield(Event{}, fmt.Errorf("taskservice: arguments for %s: %w", tool, argsErr))
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		x := &executeStream{c: c, req: req, pos: &position{output: true}, r: c.retry.start(), yield: yield}
		if err := x.run(ctx); err != nil {
			yield(Event{}, err)
		}
	}
}

// executeStream is one ExecuteStream iteration.
type executeStream struct {
	c     *Client
	req   *pb.ExecuteRequest
	pos   *position
	r     *retrier
	yield func(Event, error) bool
	// answer is the answer yielded, nil before it.
	answer *Execution
	// received is set once any message came, on any stream.
	received bool
}

// run returns nil when the iteration is over (the last event, or the
// consumer stopped), else the error to end it with.
func (x *executeStream) run(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := x.stream(ctx, attempt > 1)
		if err == nil {
			return nil
		}
		if x.answer != nil {
			return x.followAfter(ctx, err)
		}
		if !x.received && errors.Is(err, ErrUnimplemented) {
			return x.fallback(ctx)
		}
		// Before the answer only a tracked call (a request id) can be sent
		// again without running the tool twice.
		if x.req.GetRequestId() == "" {
			return err
		}
		if err = x.r.retry(ctx, err); err != nil {
			return err
		}
	}
}

// followAfter follows the backgrounded task through AwaitResult once its
// ExecuteStream ended with err (its wait limit, or a drop).
func (x *executeStream) followAfter(ctx context.Context, err error) error {
	if !errors.Is(err, errRenew) {
		if err = x.r.retry(ctx, err); err != nil {
			return err
		}
	}
	return x.c.follow(ctx, x.answer.Task.ID, awaitConfig{user: x.req.GetUserId()}, time.Time{}, x.pos, x.r, true, x.update)
}

// update yields an update of the backgrounded task.
func (x *executeStream) update(u Update) bool {
	return x.yield(Event{Kind: EventUpdate, Update: &u, Output: u.Output}, nil)
}

// stream runs one ExecuteStream call. It returns nil when the iteration is
// over, else what ended the stream.
func (x *executeStream) stream(ctx context.Context, reissued bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := x.c.rpc.ExecuteStream(ctx, x.req, x.c.options()...)
	if err != nil {
		return toError(err, nil)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if x.answer == nil {
				return fmt.Errorf("taskservice: the ExecuteStream of %s ended without an answer", x.req.GetToolName())
			}
			return fmt.Errorf("taskservice: the ExecuteStream of task %s ended without a terminal update", x.answer.Task.ID)
		}
		if err != nil {
			return toError(err, stream.Trailer())
		}
		x.received = true
		switch ev := msg.GetEvent().(type) {
		case *pb.ExecuteStreamResponse_Output:
			chunk, ok, err := x.pos.acceptOutput(x.answerID(), ev.Output.GetOffset(), ev.Output.GetText())
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			x.r.reset()
			if !x.yield(Event{Kind: EventOutput, Output: &chunk}, nil) {
				return nil
			}
		case *pb.ExecuteStreamResponse_Progress:
			x.r.reset()
			p := ev.Progress
			progress := &Progress{Fraction: p.GetFraction(), Message: p.GetMessage(), UpdatedAt: timeOf(p.GetUpdatedAt())}
			if !x.yield(Event{Kind: EventProgress, Progress: progress}, nil) {
				return nil
			}
		case *pb.ExecuteStreamResponse_Answer:
			x.r.reset()
			done, err := x.answered(ctx, ev.Answer, reissued)
			if done && !ev.Answer.GetBackgrounded() {
				endByStatus(stream, cancel) // an inline answer is the last message
			}
			if done || err != nil {
				return err
			}
		case *pb.ExecuteStreamResponse_Update:
			if x.answer == nil {
				continue // no task to follow yet: not a message this protocol sends
			}
			u, ok, err := x.pos.accept(x.answer.Task.ID, ev.Update)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			x.r.reset()
			if u.Kind == UpdateWaitTimedOut {
				endByStatus(stream, cancel)
				return errRenew
			}
			more := x.update(x.pos.number(u))
			if u.Final() {
				endByStatus(stream, cancel)
				return nil
			}
			if !more {
				return nil
			}
		}
	}
}

// answered yields the answer, and first any output the stream did not
// carry; done is true when the iteration is over.
func (x *executeStream) answered(ctx context.Context, resp *pb.ExecuteResponse, reissued bool) (done bool, err error) {
	e := x.c.execution(resp, x.req.GetUserId())
	if e.Task == nil {
		e.Task = &Task{}
	}
	// A call sent again answers inline from the stored task without its
	// output: what the tool wrote after the first stream dropped is read.
	if !e.Backgrounded && e.Task.ID != "" && (reissued || e.Task.OutputBytes > x.pos.offset) {
		chunk, _, err := x.c.ReadOutput(ctx, e.Task.ID, x.pos.offset, WithUser(x.req.GetUserId()))
		if err != nil {
			return true, err
		}
		if chunk, ok, _ := x.pos.acceptOutput(e.Task.ID, chunk.Offset, chunk.Text); ok {
			if !x.yield(Event{Kind: EventOutput, Output: &chunk}, nil) {
				return true, nil
			}
		}
	}
	x.answer = e
	x.pos.reported(e.Task)
	if !x.yield(Event{Kind: EventAnswer, Answer: e}, nil) {
		return true, nil
	}
	if !e.Backgrounded || e.Task.ID == "" {
		return true, nil
	}
	return false, nil
}

// fallback is ExecuteStream for a server without it: Execute, then
// AwaitResult with output.
func (x *executeStream) fallback(ctx context.Context) error {
	e, err := x.c.execute(ctx, x.req)
	if err != nil {
		return err
	}
	x.answer = e
	if e.Task == nil {
		e.Task = &Task{}
	}
	x.pos.reported(e.Task)
	if !x.yield(Event{Kind: EventAnswer, Answer: e}, nil) || !e.Backgrounded || e.Task.ID == "" {
		return nil
	}
	return x.c.follow(ctx, e.Task.ID, awaitConfig{user: x.req.GetUserId()}, time.Time{}, x.pos, x.r, true, x.update)
}

// answerID names the task in errors: its id once answered, else the tool.
func (x *executeStream) answerID() string {
	if x.answer != nil {
		return x.answer.Task.ID
	}
	return "(" + x.req.GetToolName() + ")"
}
