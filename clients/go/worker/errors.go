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
	// Reason is why the server stopped the task: CANCELLED, HARD_TIMEOUT, SHUTDOWN, ...
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

var (
	// ErrConnectionLost is the cause of a handler's context when the stream
	// to the server ended while it ran. The server has failed the task
	// (WORKER_LOST) and will not take its result, so the handler should stop.
	ErrConnectionLost = errors.New("worker: connection to the server lost")

	// ErrStopped is the cause of a handler's context when Run's context is
	// done: the worker is shutting down and drops every result.
	ErrStopped = errors.New("worker: stopped")
)
