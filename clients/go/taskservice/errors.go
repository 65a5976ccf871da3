package taskservice

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Sentinels for the status codes TaskService answers with. Every error an RPC
// returns is an *Error, which matches the sentinel of its code:
//
//	if errors.Is(err, taskservice.ErrNotFound) { ... }
//
// Canceled and DeadlineExceeded match context.Canceled and
// context.DeadlineExceeded instead.
var (
	// ErrNotFound: an unknown tool, or an unknown task (or another user's).
	ErrNotFound = errors.New("taskservice: not found")
	// ErrInvalidArgument: arguments not a JSON object or failing the tool's
	// schema, an answer failing its question's schema, a malformed id,
	// budget, page token or platform.
	ErrInvalidArgument = errors.New("taskservice: invalid argument")
	// ErrFailedPrecondition: cancelling a finished task, changing a redirect
	// after delivery began, answering a question that is not open (answered
	// already, stale) or a task that waits for no input.
	ErrFailedPrecondition = errors.New("taskservice: failed precondition")
	// ErrPermissionDenied: the token may not act for that user.
	ErrPermissionDenied = errors.New("taskservice: permission denied")
	// ErrUnauthenticated: no token, or an unknown one.
	ErrUnauthenticated = errors.New("taskservice: unauthenticated")
	// ErrResourceExhausted: too many tools running, too many streams, a
	// message over the size limit. Not retried: waiting does not help
	// reliably, and the caller knows better.
	ErrResourceExhausted = errors.New("taskservice: resource exhausted")
	// ErrUnavailable: the server is shutting down or its store is
	// unreachable, or there is no connection. Idempotent calls are retried
	// (see RetryPolicy) before this is returned.
	ErrUnavailable = errors.New("taskservice: unavailable")
	// ErrInternal: a server bug; the server logs the cause.
	ErrInternal = errors.New("taskservice: internal error")
	// ErrUnimplemented: the server does not offer the method.
	ErrUnimplemented = errors.New("taskservice: unimplemented")
)

var sentinels = map[codes.Code]error{
	codes.NotFound:           ErrNotFound,
	codes.InvalidArgument:    ErrInvalidArgument,
	codes.FailedPrecondition: ErrFailedPrecondition,
	codes.PermissionDenied:   ErrPermissionDenied,
	codes.Unauthenticated:    ErrUnauthenticated,
	codes.ResourceExhausted:  ErrResourceExhausted,
	codes.Unavailable:        ErrUnavailable,
	codes.Internal:           ErrInternal,
	codes.Unimplemented:      ErrUnimplemented,
	codes.Canceled:           context.Canceled,
	codes.DeadlineExceeded:   context.DeadlineExceeded,
}

// Error is a failed RPC: its gRPC status, and the server's error class.
//
// errors.Is matches the sentinel of its code (ErrNotFound, ...), and
// status.FromError / status.Code still work on it (and on errors wrapping
// it), so code written against plain grpc-go errors keeps working.
type Error struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the status message. TaskService's messages say what to fix,
	// e.g. `arguments_json: field "seconds" must be number`.
	Message string
	// Reason is the server's error class from the `error-reason` trailer,
	// e.g. "TaskNotFound" or "ToolNotFound" (both NOT_FOUND); empty when the
	// server sent none (authentication, transport errors).
	Reason string

	status *status.Status
}

func (e *Error) Error() string {
	return fmt.Sprintf("taskservice: %s: %s", e.Code, e.Message)
}

// GRPCStatus is the status the server sent, for status.FromError.
func (e *Error) GRPCStatus() *status.Status { return e.status }

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Code]
	return ok && s == target
}

// toError turns what grpc-go returned into an *Error (nil stays nil; an error
// without a status, which grpc-go does not return, passes through). trailer
// may be nil.
func toError(err error, trailer metadata.MD) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	e := &Error{Code: st.Code(), Message: st.Message(), status: st}
	if reasons := trailer.Get("error-reason"); len(reasons) > 0 {
		e.Reason = reasons[0]
	}
	return e
}

// contextError is what a call returns when ctx ended while it waited to
// retry: context.Canceled or DeadlineExceeded for errors.Is, with what the
// last attempt got in the message.
func contextError(ctx context.Context, last error) error {
	st := status.FromContextError(ctx.Err())
	msg := st.Message()
	if last != nil {
		msg += " while waiting to retry after: " + last.Error()
	}
	return &Error{Code: st.Code(), Message: msg, status: status.New(st.Code(), msg)}
}

// TaskFailedError is a task that ended FAILED: Wait returns it with the task,
// and Task.Err and Execution.Err return it for a failed task.
//
//	var failed *taskservice.TaskFailedError
//	if errors.As(err, &failed) && failed.Reason == taskservice.ReasonCancelled { ... }
type TaskFailedError struct {
	TaskID string
	Tool   string
	// Reason is why: ReasonToolError, ReasonCancelled, ReasonHardTimeout,
	// ReasonWorkerLost, ReasonShutdown or ReasonInputTimeout.
	Reason FailureReason
	// Message is the task's error: the tool's own message for a tool error.
	Message string
}

func (e *TaskFailedError) Error() string {
	reason := strings.ToLower(strings.TrimPrefix(e.Reason.String(), "FAILURE_REASON_"))
	what := "task " + e.TaskID
	if e.TaskID == "" {
		what = "inline call" // the inline fast path stores nothing, so has no id
	}
	return fmt.Sprintf("taskservice: %s (%s) failed (%s): %s", what, e.Tool, reason, e.Message)
}
