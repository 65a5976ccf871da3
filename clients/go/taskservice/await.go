package taskservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// Update is one message of an Await stream: the task and its text at that
// moment, and why it was sent.
type Update struct {
	Snapshot
	Kind UpdateKind
	// Sequence numbers the updates one Await (or ExecuteStream) yields from
	// 1, across reconnects.
	Sequence uint64
	// Output is the piece of output an UpdateOutput carries (with
	// WithOutput); nil on other updates.
	Output *OutputChunk
}

// Final reports whether u is the last update: UpdateTerminal (the task
// finished) or UpdateWaitTimedOut (the wait limit passed first).
func (u Update) Final() bool {
	return u.Kind == UpdateTerminal || u.Kind == UpdateWaitTimedOut
}

// Await follows a task until it finishes: an UpdateSnapshot at once, then
// UpdateProgress, UpdateInput (the tool asked a question, or it was
// answered) and UpdateHeartbeat as they come, then one final update (see
// Update.Final). A task that has already finished yields only its
// UpdateTerminal. With WithOutput, UpdateOutput updates carry the tool's
// output as well, all of it before the final update.
//
//	for u, err := range client.Await(ctx, id, taskservice.WithOutput(0)) {
//		if err != nil {
//			return err
//		}
//		if u.Output != nil {
//			fmt.Print(u.Output.Text)
//			continue
//		}
//		fmt.Println(u.Kind, u.Text)
//	}
//
// The sequence ends after the final update, or with one (Update{}, err)
// pair: ErrNotFound for an unknown task, context.Canceled (errors.Is) when
// ctx ends. Breaking out of the loop closes the stream at once.
//
// When the stream fails UNAVAILABLE (a replica shutting down, a dropped
// connection), Await reopens it as the RetryPolicy allows, on any replica,
// and resumes where it stopped: from the last Task.Version it yielded and the
// next output byte. The loop sees no reconnect: every status change once and
// in order (progress in between may come coalesced into one update), every
// output byte once and in order, and no second UpdateSnapshot (the state a
// reopened stream starts with comes as UpdateProgress, or UpdateInput when
// the status changed). Whatever a server sends again anyway (a state not
// newer than the last one yielded, output before the next byte expected) is
// dropped. The attempts count again after each update received.
//
// Await is an iterator rather than a channel so that it needs no goroutine:
// the stream is read in the caller's loop, a slow consumer simply reads later
// (the server keeps only the newest state for it), and leaving the loop
// early cannot leak a goroutine blocked on a send. For a channel, range over
// it in a goroutine of your own.
func (c *Client) Await(ctx context.Context, id string, opts ...AwaitOption) iter.Seq2[Update, error] {
	var cfg awaitConfig
	for _, o := range opts {
		o.applyAwait(&cfg)
	}
	return func(yield func(Update, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var until time.Time
		if cfg.waitLimit > 0 {
			until = time.Now().Add(cfg.waitLimit)
		}
		pos := &position{output: cfg.output, offset: cfg.outputFrom}
		err := c.follow(ctx, id, cfg, until, pos, c.retry.start(), false, func(u Update) bool { return yield(u, nil) })
		if err != nil {
			yield(Update{}, err)
		}
	}
}

// errRenew ends a stream whose wait limit passed when the follower goes on
// regardless (ExecuteStream): the stream is reopened at once, not retried.
var errRenew = errors.New("taskservice: the wait limit passed; reopening")

// follow reads AwaitResult streams of task id from pos until the final
// update, reopening them (resumed from pos) after UNAVAILABLE as r allows.
// With renew, an UpdateWaitTimedOut is not yielded: the stream is reopened,
// so only UpdateTerminal ends it. It returns nil when the iteration is over
// (the final update, or yield said stop), else why it failed.
func (c *Client) follow(ctx context.Context, id string, cfg awaitConfig, until time.Time, pos *position, r *retrier,
	renew bool, yield func(Update) bool) error {
	for {
		err := c.awaitStream(ctx, awaitRequest(id, cfg, until, pos), pos, r, renew, yield)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errRenew):
			continue
		}
		if err = r.retry(ctx, err); err != nil {
			return err
		}
	}
}

func awaitRequest(id string, cfg awaitConfig, until time.Time, pos *position) *pb.AwaitResultRequest {
	req := &pb.AwaitResultRequest{TaskId: id, UserId: cfg.user}
	if !until.IsZero() {
		// What is left of the limit; a reopened stream past it still gets
		// what it missed and then times out at once.
		req.TimeoutSeconds = proto.Float64(max(time.Until(until), time.Millisecond).Seconds())
	}
	if cfg.heartbeat > 0 {
		req.HeartbeatSeconds = proto.Float64(cfg.heartbeat.Seconds())
	}
	if pos.version > 0 {
		req.AfterVersion = proto.Uint64(pos.version)
	}
	if pos.output {
		req.OutputOffset = proto.Uint64(pos.offset)
	}
	return req
}

// awaitStream runs one AwaitResult stream, yielding what pos accepts of it.
// It returns nil when the iteration is over (a final update, or the consumer
// stopped), else what ended the stream.
func (c *Client) awaitStream(ctx context.Context, req *pb.AwaitResultRequest, pos *position, r *retrier, renew bool,
	yield func(Update) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a stream left early (the consumer stopped, a gap) is closed at once
	stream, err := c.rpc.AwaitResult(ctx, req, c.options()...)
	if err != nil {
		return toError(err, nil)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("taskservice: the AwaitResult stream of task %s ended without a final update", req.GetTaskId())
		}
		if err != nil {
			return toError(err, stream.Trailer())
		}
		u, ok, err := pos.accept(req.GetTaskId(), msg)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		r.reset()
		if renew && u.Kind == UpdateWaitTimedOut {
			endByStatus(stream, cancel)
			return errRenew
		}
		more := yield(pos.number(u))
		if u.Final() {
			endByStatus(stream, cancel)
			return nil
		}
		if !more {
			return nil
		}
	}
}

// statusWait bounds how long endByStatus waits for the status.
const statusWait = time.Second

// endByStatus waits for the status the server sends right after a stream's
// last message, so that the stream ends without a cancel: that would send a
// RST_STREAM, and HTTP/2 servers (nghttp2's rapid-reset guard) close a
// connection that receives more than about a thousand of them in a burst.
// cancel is the stream's, called if no status comes within statusWait.
func endByStatus[Res any](stream grpc.ServerStreamingClient[Res], cancel context.CancelFunc) {
	t := time.AfterFunc(statusWait, cancel)
	defer t.Stop()
	_, _ = stream.Recv() // io.EOF, or whatever else: the iteration is over
}

// Wait blocks until the task finishes and returns it. A task that ended
// FAILED comes back with a *TaskFailedError (errors.As) saying why. It waits
// as long as ctx allows, past the server's wait limit: a stream that times
// out is reopened. That includes a task waiting for input, which only
// finishes once someone answers (ProvideInput) or its input timeout passes;
// use Await to see the question. Other errors are Await's.
func (c *Client) Wait(ctx context.Context, id string, opts ...TaskOption) (*Task, error) {
	user := WithUser(taskOptions(opts).user)
	for {
		var last Update
		for u, err := range c.Await(ctx, id, user) {
			if err != nil {
				return nil, err
			}
			last = u
		}
		if last.Kind == UpdateTerminal {
			return last.Task, last.Task.Err()
		}
		// UpdateWaitTimedOut: the task is still running; wait again.
	}
}
