package taskservice

import (
	"context"
	"fmt"
	"iter"

	"google.golang.org/grpc"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// Get is the task now, without waiting. Unknown ids (and another user's
// tasks, under WithUser) are ErrNotFound.
func (c *Client) Get(ctx context.Context, id string, opts ...TaskOption) (*Snapshot, error) {
	req := &pb.GetResultRequest{TaskId: id, UserId: taskOptions(opts).user}
	resp, err := unary(ctx, c, true, func(ctx context.Context, o ...grpc.CallOption) (*pb.GetResultResponse, error) {
		return c.rpc.GetResult(ctx, req, o...)
	})
	if err != nil {
		return nil, err
	}
	return &Snapshot{Task: taskFromPb(resp.GetTask()), Text: resp.GetText()}, nil
}

// Cancel stops a running task; it ends FAILED with ReasonCancelled, and the
// cancelled task is returned. Cancelling a cancelled task again is a no-op
// (so Cancel is retried safely); cancelling any other finished task is
// ErrFailedPrecondition.
func (c *Client) Cancel(ctx context.Context, id string, opts ...TaskOption) (*Task, error) {
	req := &pb.CancelTaskRequest{TaskId: id, UserId: taskOptions(opts).user}
	resp, err := unary(ctx, c, true, func(ctx context.Context, o ...grpc.CallOption) (*pb.CancelTaskResponse, error) {
		return c.rpc.CancelTask(ctx, req, o...)
	})
	if err != nil {
		return nil, err
	}
	return taskFromPb(resp.GetTask()), nil
}

// Redirect delivers the task's result to a chat channel when it finishes, or
// at once if it already has. The target can change until delivery begins;
// then another target is ErrFailedPrecondition (the same one again is a
// no-op). An unknown platform is ErrInvalidArgument.
func (c *Client) Redirect(ctx context.Context, id string, target Target, opts ...TaskOption) (*Task, error) {
	req := &pb.SetOutputRedirectRequest{
		TaskId: id, UserId: taskOptions(opts).user,
		Platform: target.Platform, ChannelId: target.ChannelID, MaxChars: target.MaxChars,
	}
	resp, err := unary(ctx, c, true, func(ctx context.Context, o ...grpc.CallOption) (*pb.SetOutputRedirectResponse, error) {
		return c.rpc.SetOutputRedirect(ctx, req, o...)
	})
	if err != nil {
		return nil, err
	}
	return taskFromPb(resp.GetTask()), nil
}

// ProvideInput answers a task's open question: inputRequestID is
// Task.InputRequest.ID, and answer is a JSON object matching the question's
// schema (json.RawMessage, []byte and string are sent as is, nil as {},
// anything else is encoded with json.Marshal). The answer is handed to the
// tool, the task runs again, and it is returned (StatusRunning, unless it
// has moved on already).
//
// An answer the schema refuses is ErrInvalidArgument, its message naming
// the field; the task keeps waiting, so correct it and answer again. An id
// that is not the open question (answered already, stale) or a task not
// waiting for input is ErrFailedPrecondition; another user's task, under
// WithUser, ErrNotFound.
//
// ProvideInput is never retried, not even on UNAVAILABLE: an answer the
// server took whose reply was lost would come back ErrFailedPrecondition.
// Get the task to see whether it was taken.
func (c *Client) ProvideInput(ctx context.Context, id, inputRequestID string, answer any, opts ...TaskOption) (*Task, error) {
	answerJSON, err := argumentsJSON(answer)
	if err != nil {
		return nil, fmt.Errorf("taskservice: answer for task %s: %w", id, err)
	}
	if answerJSON == "" {
		answerJSON = "{}"
	}
	req := &pb.ProvideInputRequest{TaskId: id, UserId: taskOptions(opts).user, InputRequestId: inputRequestID, ResponseJson: answerJSON}
	resp, err := unary(ctx, c, false, func(ctx context.Context, o ...grpc.CallOption) (*pb.ProvideInputResponse, error) {
		return c.rpc.ProvideInput(ctx, req, o...)
	})
	if err != nil {
		return nil, err
	}
	return taskFromPb(resp.GetTask()), nil
}

// Handle is a task id with the user it belongs to, and the calls that act on
// it. Execute returns one for every stored task; Client.Handle makes one for
// an id from elsewhere (a model's check_task call, a database).
type Handle struct {
	c    *Client
	id   string
	user string
}

// Handle is a Handle on task id; WithUser scopes its calls to that user.
func (c *Client) Handle(id string, opts ...TaskOption) *Handle {
	return &Handle{c: c, id: id, user: taskOptions(opts).user}
}

// ID is the task id.
func (h *Handle) ID() string { return h.id }

// User is the user the handle's calls act for ("" for none).
func (h *Handle) User() string { return h.user }

// Get is Client.Get for this task.
func (h *Handle) Get(ctx context.Context) (*Snapshot, error) {
	return h.c.Get(ctx, h.id, WithUser(h.user))
}

// Await is Client.Await for this task.
func (h *Handle) Await(ctx context.Context, opts ...AwaitOption) iter.Seq2[Update, error] {
	return h.c.Await(ctx, h.id, append([]AwaitOption{WithUser(h.user)}, opts...)...)
}

// Wait is Client.Wait for this task.
func (h *Handle) Wait(ctx context.Context) (*Task, error) {
	return h.c.Wait(ctx, h.id, WithUser(h.user))
}

// Cancel is Client.Cancel for this task.
func (h *Handle) Cancel(ctx context.Context) (*Task, error) {
	return h.c.Cancel(ctx, h.id, WithUser(h.user))
}

// ProvideInput is Client.ProvideInput for this task.
func (h *Handle) ProvideInput(ctx context.Context, inputRequestID string, answer any) (*Task, error) {
	return h.c.ProvideInput(ctx, h.id, inputRequestID, answer, WithUser(h.user))
}

// Redirect is Client.Redirect for this task.
func (h *Handle) Redirect(ctx context.Context, target Target) (*Task, error) {
	return h.c.Redirect(ctx, h.id, target, WithUser(h.user))
}
