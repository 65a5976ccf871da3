package taskservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// Update is one message of an Await stream: the task and its text at that
// moment, and why it was sent.
type Update struct {
	Snapshot
	Kind UpdateKind
	// Sequence numbers the updates of one stream from 1. It starts at 1
	// again after Await reconnected, with an UpdateSnapshot.
	Sequence uint64
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
// UpdateTerminal.
//
//	for u, err := range client.Await(ctx, id) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(u.Kind, u.Text)
//	}
//
// The sequence ends after the final update, or with one (Update{}, err)
// pair: ErrNotFound for an unknown task, context.Canceled (errors.Is) when
// ctx ends. Breaking out of the loop closes the stream at once.
//
// When the stream fails UNAVAILABLE (a replica shutting down, a dropped
// connection), Await reopens it as the RetryPolicy allows, on any replica;
// the new stream starts with a fresh UpdateSnapshot, so nothing is missed
// (progress between the two shows as one change). The attempts count again
// after each update received.
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
		r := c.retry.start()
		for {
			err := c.awaitStream(ctx, awaitRequest(id, cfg, until), r, yield)
			if err == nil {
				return
			}
			if err = r.retry(ctx, err); err != nil {
				yield(Update{}, err)
				return
			}
		}
	}
}

func awaitRequest(id string, cfg awaitConfig, until time.Time) *pb.AwaitResultRequest {
	req := &pb.AwaitResultRequest{TaskId: id, UserId: cfg.user}
	if !until.IsZero() {
		// What is left of the limit; a reopened stream past it still gets
		// its snapshot and then times out at once.
		req.TimeoutSeconds = proto.Float64(max(time.Until(until), time.Millisecond).Seconds())
	}
	if cfg.heartbeat > 0 {
		req.HeartbeatSeconds = proto.Float64(cfg.heartbeat.Seconds())
	}
	return req
}

// awaitStream runs one AwaitResult stream, yielding its updates. It returns
// nil when the iteration is over (a final update, or the consumer stopped),
// else what ended the stream.
func (c *Client) awaitStream(ctx context.Context, req *pb.AwaitResultRequest, r *retrier, yield func(Update, error) bool) error {
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
		r.reset()
		u := Update{
			Snapshot: Snapshot{Task: taskFromPb(msg.GetTask()), Text: msg.GetText()},
			Kind:     msg.GetKind(),
			Sequence: msg.GetSequence(),
		}
		if !yield(u, nil) || u.Final() {
			return nil
		}
	}
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
