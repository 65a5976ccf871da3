package taskservice

import (
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// ExecOption configures one Execute.
type ExecOption interface{ applyExec(*pb.ExecuteRequest) }

// TaskOption configures Get, Wait, Cancel, Redirect, ProvideInput and Handle.
type TaskOption interface{ applyTask(*taskConfig) }

// AwaitOption configures Await.
type AwaitOption interface{ applyAwait(*awaitConfig) }

// ListOption configures List and ListPage.
type ListOption interface{ applyList(*pb.ListTasksRequest) }

type taskConfig struct{ user string }

type awaitConfig struct {
	user       string
	waitLimit  time.Duration
	heartbeat  time.Duration
	output     bool
	outputFrom uint64
}

// UserOption is WithUser; it fits every kind of call.
type UserOption string

// WithUser makes a call for a user. Execute records it as the task's owner
// (and the meta tools act for it); Get, Await, Wait, Cancel, Redirect and
// ProvideInput then see only that user's tasks (another user's is ErrNotFound, exactly like a
// missing one), and List lists only theirs. Without it, calls see every task
// unless the client's token is limited to some users.
func WithUser(id string) UserOption { return UserOption(id) }

func (u UserOption) applyExec(r *pb.ExecuteRequest)   { r.UserId = string(u) }
func (u UserOption) applyTask(c *taskConfig)          { c.user = string(u) }
func (u UserOption) applyAwait(c *awaitConfig)        { c.user = string(u) }
func (u UserOption) applyList(r *pb.ListTasksRequest) { r.UserId = string(u) }
func (f execOption) applyExec(r *pb.ExecuteRequest)   { f(r) }
func (f awaitOption) applyAwait(c *awaitConfig)       { f(c) }
func (f listOption) applyList(r *pb.ListTasksRequest) { f(r) }

type (
	execOption  func(*pb.ExecuteRequest)
	awaitOption func(*awaitConfig)
	listOption  func(*pb.ListTasksRequest)
)

// WithChannel records where the call came from (the chat platform and
// channel); it is stored on the task.
func WithChannel(platform, channelID string) ExecOption {
	return execOption(func(r *pb.ExecuteRequest) { r.Platform, r.ChannelId = platform, channelID })
}

// WithBudget is how long Execute waits for the tool before backgrounding it.
// Without it (or with 0) the tool's default applies, else the server's (10 s).
// The server caps it at its maximum, and ends it 100 ms before the context's
// deadline, so a short deadline still gets a task id back rather than
// DeadlineExceeded.
func WithBudget(d time.Duration) ExecOption {
	return execOption(func(r *pb.ExecuteRequest) {
		if d > 0 {
			r.TimeoutSeconds = proto.Float64(d.Seconds())
		}
	})
}

// WithRequestID is an idempotency key: the same (user, request id) returns
// the same task instead of running the tool again. It also lets Execute be
// retried on UNAVAILABLE. Use the model's tool-call id, for example.
func WithRequestID(id string) ExecOption {
	return execOption(func(r *pb.ExecuteRequest) { r.RequestId = id })
}

// WithRedirect delivers the result to a chat channel when the task finishes;
// it is set before the tool starts.
func WithRedirect(target Target) ExecOption {
	return execOption(func(r *pb.ExecuteRequest) { r.Redirect = targetToPb(target) })
}

// WithWaitLimit is how long one Await waits for the end before its last
// update says UpdateWaitTimedOut. Without it the server's default applies
// (300 s). Across reconnects the limit counts from the first stream.
func WithWaitLimit(d time.Duration) AwaitOption {
	return awaitOption(func(c *awaitConfig) { c.waitLimit = d })
}

// WithHeartbeat asks for an UpdateHeartbeat after d without any other
// update; without it the server's default applies (15 s).
func WithHeartbeat(d time.Duration) AwaitOption {
	return awaitOption(func(c *awaitConfig) { c.heartbeat = d })
}

// WithOutput makes Await stream the task's output too, from byte offset
// from (0: all of it), as UpdateOutput updates whose Output holds a piece of
// it: every byte once, in order, across reconnects, and all of it before the
// final update. To go on from an earlier read, pass the End of the last
// chunk seen.
func WithOutput(from uint64) AwaitOption {
	return awaitOption(func(c *awaitConfig) { c.output, c.outputFrom = true, from })
}

// WithStatus lists only tasks with this status.
func WithStatus(s Status) ListOption {
	return listOption(func(r *pb.ListTasksRequest) { r.Status = s })
}

// WithTool lists only tasks of this tool.
func WithTool(name string) ListOption {
	return listOption(func(r *pb.ListTasksRequest) { r.ToolName = name })
}

// WithPageSize is how many tasks a page holds (default 50; the server cuts
// anything above 500 to 500).
func WithPageSize(n int32) ListOption {
	return listOption(func(r *pb.ListTasksRequest) { r.PageSize = n })
}

func targetToPb(t Target) *pb.RedirectTarget {
	return &pb.RedirectTarget{Platform: t.Platform, ChannelId: t.ChannelID, MaxChars: t.MaxChars}
}

func taskOptions(opts []TaskOption) taskConfig {
	var c taskConfig
	for _, o := range opts {
		o.applyTask(&c)
	}
	return c
}
