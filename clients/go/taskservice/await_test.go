package taskservice_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

type awaitStream = grpc.ServerStreamingServer[pb.AwaitResultResponse]

func update(kind pb.UpdateKind, seq uint64, task *pb.Task) *pb.AwaitResultResponse {
	return &pb.AwaitResultResponse{Kind: kind, Sequence: seq, Task: task, Text: task.GetResult(), WaitTimedOut: kind == pb.UpdateKind_UPDATE_KIND_WAIT_TIMED_OUT}
}

// script sends the updates of stream n, then ends it with end[n] (nil: OK).
func script(updates [][]*pb.AwaitResultResponse, end []error) func(int, *pb.AwaitResultRequest, awaitStream) error {
	return func(n int, _ *pb.AwaitResultRequest, stream awaitStream) error {
		for _, u := range updates[n-1] {
			if err := stream.Send(u); err != nil {
				return err
			}
		}
		return end[n-1]
	}
}

func kinds(t *testing.T, seq func(func(taskservice.Update, error) bool)) ([]taskservice.UpdateKind, error) {
	t.Helper()
	var got []taskservice.UpdateKind
	for u, err := range seq {
		if err != nil {
			return got, err
		}
		got = append(got, u.Kind)
	}
	return got, nil
}

var (
	snapshot     = pb.UpdateKind_UPDATE_KIND_SNAPSHOT
	progress     = pb.UpdateKind_UPDATE_KIND_PROGRESS
	terminal     = pb.UpdateKind_UPDATE_KIND_TERMINAL
	waitTimedOut = pb.UpdateKind_UPDATE_KIND_WAIT_TIMED_OUT
	unavailable  = status.Error(codes.Unavailable, "the server is shutting down; retry on another replica")
)

func TestAwaitYieldsEveryUpdateUpToTheTerminalOne(t *testing.T) {
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{{
		update(snapshot, 1, running("t1")), update(progress, 2, running("t1")), update(terminal, 3, completed("t1", "slept 1 s")),
	}}, []error{nil})}
	client := serve(t, f)

	var got []taskservice.Update
	for u, err := range client.Await(ctxFor(t), "t1", taskservice.WithUser("alice"), taskservice.WithWaitLimit(30*time.Second), taskservice.WithHeartbeat(time.Second)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u)
	}
	if len(got) != 3 || got[2].Kind != taskservice.UpdateTerminal || !got[2].Final() || got[1].Final() ||
		got[2].Text != "slept 1 s" || got[2].Task.Status != taskservice.StatusCompleted || got[2].Sequence != 3 {
		t.Errorf("updates = %+v", got)
	}
	reqs, _ := f.received("AwaitResult")
	req := reqs[0].(*pb.AwaitResultRequest)
	if req.GetTaskId() != "t1" || req.GetUserId() != "alice" || req.GetHeartbeatSeconds() != 1 ||
		req.GetTimeoutSeconds() <= 29 || req.GetTimeoutSeconds() > 30 {
		t.Errorf("request = %v", req)
	}
}

func TestAwaitReopensTheStreamAfterUnavailableAndStartsFromItsSnapshot(t *testing.T) {
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{
		{update(snapshot, 1, running("t1")), update(progress, 2, running("t1"))},
		{},
		{update(snapshot, 1, running("t1")), update(terminal, 2, completed("t1", "done"))},
	}, []error{unavailable, unavailable, nil})}
	client := serve(t, f)

	got, err := kinds(t, client.Await(ctxFor(t), "t1", taskservice.WithWaitLimit(10*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if want := []taskservice.UpdateKind{snapshot, progress, snapshot, terminal}; !slices.Equal(got, want) {
		t.Errorf("kinds = %v, want %v", got, want)
	}
	if n := f.count("AwaitResult"); n != 3 {
		t.Errorf("%d streams, want 3", n)
	}
	// The wait limit counts from the first stream, not again from each.
	reqs, _ := f.received("AwaitResult")
	first, last := reqs[0].(*pb.AwaitResultRequest), reqs[2].(*pb.AwaitResultRequest)
	if last.GetTimeoutSeconds() >= first.GetTimeoutSeconds() {
		t.Errorf("reopened with a wait limit of %vs, the first asked %vs", last.GetTimeoutSeconds(), first.GetTimeoutSeconds())
	}
}

func TestAwaitGivesUpAfterMaxAttemptsWithoutAnUpdate(t *testing.T) {
	// Every stream fails before sending anything: the attempts are not renewed.
	f := &fake{awaitResult: func(int, *pb.AwaitResultRequest, awaitStream) error { return unavailable }}
	client := serve(t, f)
	if _, err := kinds(t, client.Await(ctxFor(t), "t1")); !errors.Is(err, taskservice.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if n := f.count("AwaitResult"); n != fastRetry.MaxAttempts {
		t.Errorf("%d streams, want %d", n, fastRetry.MaxAttempts)
	}
}

func TestAwaitOfAnUnknownTaskYieldsNotFoundOnce(t *testing.T) {
	f := &fake{awaitResult: func(int, *pb.AwaitResultRequest, awaitStream) error {
		return status.Error(codes.NotFound, "task t9 not found")
	}}
	client := serve(t, f)
	errs := 0
	for u, err := range client.Await(ctxFor(t), "t9") {
		if err == nil {
			t.Errorf("update %+v", u)
			continue
		}
		errs++
		if !errors.Is(err, taskservice.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	}
	if errs != 1 || f.count("AwaitResult") != 1 {
		t.Errorf("%d errors over %d streams, want 1 and 1", errs, f.count("AwaitResult"))
	}
}

func TestAStreamEndingWithoutAFinalUpdateIsAnError(t *testing.T) {
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{{update(snapshot, 1, running("t1"))}}, []error{nil})}
	client := serve(t, f)
	got, err := kinds(t, client.Await(ctxFor(t), "t1"))
	if err == nil || len(got) != 1 {
		t.Errorf("kinds = %v, err = %v; want one snapshot, then an error", got, err)
	}
}

// blockingStream sends a snapshot, then holds the stream open until the
// client goes away, which it reports on closed.
func blockingStream(closed chan<- struct{}) func(int, *pb.AwaitResultRequest, awaitStream) error {
	return func(_ int, _ *pb.AwaitResultRequest, stream awaitStream) error {
		if err := stream.Send(update(snapshot, 1, running("t1"))); err != nil {
			return err
		}
		<-stream.Context().Done()
		close(closed)
		return nil
	}
}

func TestLeavingTheAwaitLoopClosesTheStream(t *testing.T) {
	closed := make(chan struct{})
	client := serve(t, &fake{awaitResult: blockingStream(closed)})
	for range client.Await(ctxFor(t), "t1") {
		break
	}
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("the server's stream was still open after the loop ended")
	}
}

func TestAwaitEndsPromptlyWhenTheContextIsCancelled(t *testing.T) {
	closed := make(chan struct{})
	client := serve(t, &fake{awaitResult: blockingStream(closed)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var cancelledAt time.Time
	var final error
	for u, err := range client.Await(ctx, "t1") {
		if err != nil {
			final = err
			break
		}
		if u.Kind == taskservice.UpdateSnapshot {
			cancelledAt = time.Now()
			cancel()
		}
	}
	if took := time.Since(cancelledAt); took > time.Second {
		t.Errorf("Await went on for %s after its context was cancelled", took)
	}
	if !errors.Is(final, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", final)
	}
	<-closed
}

func TestWaitReopensAfterTheWaitLimitAndReturnsTheFailedTaskWithItsReason(t *testing.T) {
	cancelled := &pb.Task{TaskId: "t1", ToolName: "sleep", Status: pb.TaskStatus_TASK_STATUS_FAILED,
		FailureReason: pb.FailureReason_FAILURE_REASON_CANCELLED, Error: "cancelled"}
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{
		{update(snapshot, 1, running("t1")), update(waitTimedOut, 2, running("t1"))},
		{update(terminal, 1, cancelled)},
	}, []error{nil, nil})}
	client := serve(t, f)

	task, err := client.Handle("t1", taskservice.WithUser("bob")).Wait(ctxFor(t))
	var failed *taskservice.TaskFailedError
	if !errors.As(err, &failed) || failed.Reason != taskservice.ReasonCancelled || failed.TaskID != "t1" {
		t.Errorf("err = %v, want a TaskFailedError for a cancel", err)
	}
	if task == nil || task.Status != taskservice.StatusFailed {
		t.Errorf("task = %+v, want the failed task", task)
	}
	reqs, _ := f.received("AwaitResult")
	if len(reqs) != 2 || reqs[1].(*pb.AwaitResultRequest).GetUserId() != "bob" {
		t.Errorf("requests = %v, want two for user bob", reqs)
	}
}
