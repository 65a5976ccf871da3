package taskservice_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

var allSentinels = []error{
	taskservice.ErrNotFound, taskservice.ErrInvalidArgument, taskservice.ErrFailedPrecondition,
	taskservice.ErrPermissionDenied, taskservice.ErrUnauthenticated, taskservice.ErrResourceExhausted,
	taskservice.ErrUnavailable, taskservice.ErrInternal, taskservice.ErrUnimplemented,
	context.Canceled, context.DeadlineExceeded,
}

func TestErrorsMatchTheSentinelOfTheirCodeAndKeepTheStatus(t *testing.T) {
	cases := []struct {
		code   codes.Code
		reason string
		want   error
	}{
		{codes.NotFound, "TaskNotFound", taskservice.ErrNotFound},
		{codes.InvalidArgument, "InvalidArgument", taskservice.ErrInvalidArgument},
		{codes.FailedPrecondition, "FailedPrecondition", taskservice.ErrFailedPrecondition},
		{codes.PermissionDenied, "PermissionDenied", taskservice.ErrPermissionDenied},
		{codes.Unauthenticated, "", taskservice.ErrUnauthenticated},
		{codes.ResourceExhausted, "ResourceExhausted", taskservice.ErrResourceExhausted},
		{codes.Unavailable, "Unavailable", taskservice.ErrUnavailable},
		{codes.Internal, "", taskservice.ErrInternal},
		{codes.Unimplemented, "", taskservice.ErrUnimplemented},
		{codes.Canceled, "", context.Canceled},
		{codes.DeadlineExceeded, "", context.DeadlineExceeded},
		{codes.Aborted, "", nil}, // no sentinel: still an *Error with its status
	}
	for _, tc := range cases {
		t.Run(tc.code.String(), func(t *testing.T) {
			message := "what to fix for " + tc.code.String()
			client := serve(t, &fake{getResult: func(ctx context.Context, _ int, _ *pb.GetResultRequest) (*pb.GetResultResponse, error) {
				if tc.reason != "" { // in a trailer, as the server sends it
					_ = grpc.SetTrailer(ctx, metadata.Pairs("error-reason", tc.reason))
				}
				return nil, status.Error(tc.code, message)
			}}, taskservice.WithRetry(taskservice.NoRetry))

			_, err := client.Get(ctxFor(t), "t1")

			for _, s := range allSentinels {
				if got := errors.Is(err, s); got != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, s, got)
				}
			}
			var e *taskservice.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %#v, want an *Error", err)
			}
			if e.Code != tc.code || e.Message != message || e.Reason != tc.reason {
				t.Errorf("Error = {%s %q %q}, want {%s %q %q}", e.Code, e.Message, e.Reason, tc.code, message, tc.reason)
			}
			if want := fmt.Sprintf("taskservice: %s: %s", tc.code, message); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
			// Code written for plain grpc-go errors keeps working, wrapped or
			// not (grpc-go then puts the whole wrapped text in the message).
			for _, err := range []error{err, fmt.Errorf("get: %w", err)} {
				st, ok := status.FromError(err)
				if !ok || st.Code() != tc.code || !strings.HasSuffix(st.Message(), message) {
					t.Errorf("status.FromError(%v) = %v, %v", err, st, ok)
				}
				if status.Code(err) != tc.code {
					t.Errorf("status.Code(%v) = %s", err, status.Code(err))
				}
			}
			if st, _ := status.FromError(err); st.Message() != message {
				t.Errorf("status message = %q, want %q", st.Message(), message)
			}
		})
	}
}

func TestTaskErrIsATaskFailedErrorOnlyWhenTheTaskFailed(t *testing.T) {
	done := &taskservice.Task{ID: "t1", Tool: "sleep", Status: taskservice.StatusCompleted}
	if err := done.Err(); err != nil {
		t.Errorf("completed task: Err() = %v", err)
	}
	failed := &taskservice.Task{ID: "t2", Tool: "sleep", Status: taskservice.StatusFailed, Reason: taskservice.ReasonCancelled, Error: "cancelled by alice"}
	var tfe *taskservice.TaskFailedError
	if err := fmt.Errorf("wrapped: %w", failed.Err()); !errors.As(err, &tfe) {
		t.Fatalf("failed task: Err() = %v, want a *TaskFailedError", err)
	}
	if tfe.TaskID != "t2" || tfe.Tool != "sleep" || tfe.Reason != taskservice.ReasonCancelled || tfe.Message != "cancelled by alice" {
		t.Errorf("TaskFailedError = %+v", tfe)
	}
	if got, want := tfe.Error(), "taskservice: task t2 (sleep) failed (cancelled): cancelled by alice"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	inline := &taskservice.Execution{Task: &taskservice.Task{Tool: "fail", Status: taskservice.StatusFailed, Reason: taskservice.ReasonToolError, Error: "boom"}}
	if err := inline.Err(); err == nil || !strings.Contains(err.Error(), "inline call (fail) failed (tool_error): boom") {
		t.Errorf("inline failure: Err() = %v", err)
	}
	backgrounded := &taskservice.Execution{Backgrounded: true, Task: &taskservice.Task{ID: "t3", Status: taskservice.StatusRunning}}
	if err := backgrounded.Err(); err != nil {
		t.Errorf("backgrounded: Err() = %v", err)
	}
}

func TestACallPastItsDeadlineIsDeadlineExceeded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	client := serve(t, &fake{getResult: func(context.Context, int, *pb.GetResultRequest) (*pb.GetResultResponse, error) {
		<-release
		return nil, status.Error(codes.Internal, "released")
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := client.Get(ctx, "t1")
	if !errors.Is(err, context.DeadlineExceeded) || status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}
