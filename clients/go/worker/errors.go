package worker

import (
	"errors"
	"fmt"
	"strings"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// CancelledError is the cause of a handler's context when the server
// cancelled its task (or the task's hard timeout passed). It is exported so a
// handler can tell why it was stopped, for instance to log it or to clean up
// differently after a user's cancel than after a timeout:
//
//	var ce *worker.CancelledError
//	if errors.As(context.Cause(ctx), &ce) && ce.Reason == taskmanagerv1.FailureReason_FAILURE_REASON_HARD_TIMEOUT { ... }
type CancelledError struct {
	// Reason is why the server stopped the task: CANCELLED, HARD_TIMEOUT,
	// INPUT_TIMEOUT (a question got no answer in time), SHUTDOWN, ...
	Reason pb.FailureReason
	// Message is the server's explanation; it may be empty.
	Message string
}

func (e *CancelledError) Error() string {
	reason := strings.TrimPrefix(e.Reason.String(), "FAILURE_REASON_")
	if e.Message == "" {
		return "task cancelled: " + reason
	}
	return fmt.Sprintf("task cancelled: %s: %s", reason, e.Message)
}

// InputRequestError is what Call.RequestInput returns when its question
// could not be asked: the server refused it (a schema it cannot use, a
// NoBackground tool, ...), another question of the same call is still open,
// the message or schema is unusable, or the handler has already returned.
// Returned from the handler as is, it fails the task with its message.
type InputRequestError struct {
	TaskID string
	// Message says why, as the server (or the library) put it.
	Message string
}

func (e *InputRequestError) Error() string {
	return fmt.Sprintf("worker: the question of task %s could not be asked: %s", e.TaskID, e.Message)
}

var (
	// ErrConnectionLost is the cause of a handler's context when the stream
	// to the server ended while it ran. The server has failed the task
	// (WORKER_LOST) and will not take its result, so the handler should stop.
	ErrConnectionLost = errors.New("worker: connection to the server lost")

	// ErrStopped is the cause of a handler's context when Run's context is
	// done: the worker is shutting down and drops every result.
	ErrStopped = errors.New("worker: stopped")
)
