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
	heartbeat    = pb.UpdateKind_UPDATE_KIND_HEARTBEAT
	input        = pb.UpdateKind_UPDATE_KIND_INPUT
	outputKind   = pb.UpdateKind_UPDATE_KIND_OUTPUT
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

func TestAwaitReopensTheStreamAfterUnavailableAndResumesFromTheLastVersion(t *testing.T) {
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{
		{update(snapshot, 1, at(running("t1"), 1)), update(progress, 2, at(running("t1"), 2))},
		{},
		// The reopened stream starts with its own snapshot of a newer state.
		{update(snapshot, 1, at(running("t1"), 3)), update(terminal, 2, at(completed("t1", "done"), 4))},
	}, []error{unavailable, unavailable, nil})}
	client := serve(t, f)

	var got []taskservice.Update
	for u, err := range client.Await(ctxFor(t), "t1", taskservice.WithWaitLimit(10*time.Second)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u)
	}
	// One stream as the loop sees it: one snapshot, then changes, numbered on.
	var gotKinds []taskservice.UpdateKind
	for i, u := range got {
		gotKinds = append(gotKinds, u.Kind)
		if u.Sequence != uint64(i+1) {
			t.Errorf("update %d has sequence %d", i, u.Sequence)
		}
	}
	if want := []taskservice.UpdateKind{snapshot, progress, progress, terminal}; !slices.Equal(gotKinds, want) {
		t.Errorf("kinds = %v, want %v", gotKinds, want)
	}
	if n := f.count("AwaitResult"); n != 3 {
		t.Errorf("%d streams, want 3", n)
	}
	reqs, _ := f.received("AwaitResult")
	first, last := reqs[0].(*pb.AwaitResultRequest), reqs[2].(*pb.AwaitResultRequest)
	// Resumed from the last version seen; no output asked for.
	if first.AfterVersion != nil || last.GetAfterVersion() != 2 || reqs[1].(*pb.AwaitResultRequest).GetAfterVersion() != 2 ||
		last.OutputOffset != nil {
		t.Errorf("requests = %v", reqs)
	}
	// The wait limit counts from the first stream, not again from each.
	if last.GetTimeoutSeconds() >= first.GetTimeoutSeconds() {
		t.Errorf("reopened with a wait limit of %vs, the first asked %vs", last.GetTimeoutSeconds(), first.GetTimeoutSeconds())
	}
}

func TestAwaitShowsAStatusChangeAcrossAReconnectAsAnInputUpdate(t *testing.T) {
	asking := at(running("t1"), 3)
	asking.Status = pb.TaskStatus_TASK_STATUS_INPUT_REQUIRED
	asking.InputRequest = &pb.InputRequest{Id: "q1", Message: "Go?"}
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{
		{update(snapshot, 1, at(running("t1"), 1))},
		{update(snapshot, 1, asking), update(terminal, 2, at(completed("t1", "done"), 5))},
	}, []error{unavailable, nil})}
	got, err := kinds(t, serve(t, f).Await(ctxFor(t), "t1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []taskservice.UpdateKind{snapshot, input, terminal}; !slices.Equal(got, want) {
		t.Errorf("kinds = %v, want %v", got, want)
	}
}

func TestAwaitDropsStatesAServerSendsAgain(t *testing.T) {
	// A server that ignores after_version: whatever it repeats is not yielded twice.
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{
		{update(snapshot, 1, at(running("t1"), 1)), update(progress, 2, at(running("t1"), 2))},
		{update(snapshot, 1, at(running("t1"), 1)), update(progress, 2, at(running("t1"), 2)),
			update(heartbeat, 3, at(running("t1"), 2)), update(progress, 4, at(running("t1"), 3)),
			update(terminal, 5, at(completed("t1", "done"), 4))},
	}, []error{unavailable, nil})}
	var versions []uint64
	for u, err := range serve(t, f).Await(ctxFor(t), "t1") {
		if err != nil {
			t.Fatal(err)
		}
		if u.Kind != taskservice.UpdateHeartbeat {
			versions = append(versions, u.Task.Version)
		}
	}
	if want := []uint64{1, 2, 3, 4}; !slices.Equal(versions, want) {
		t.Errorf("versions = %v, want %v", versions, want)
	}
}

func TestAwaitOfAServerWithoutVersionsReopensFromItsSnapshot(t *testing.T) {
	// Version 0 everywhere (a server before versions): nothing to resume
	// from, so the reopened stream's snapshot is the next change.
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{
		{update(snapshot, 1, running("t1")), update(progress, 2, running("t1"))},
		{update(snapshot, 1, running("t1")), update(terminal, 2, completed("t1", "done"))},
	}, []error{unavailable, nil})}
	got, err := kinds(t, serve(t, f).Await(ctxFor(t), "t1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []taskservice.UpdateKind{snapshot, progress, progress, terminal}; !slices.Equal(got, want) {
		t.Errorf("kinds = %v, want %v", got, want)
	}
	reqs, _ := f.received("AwaitResult")
	if reqs[1].(*pb.AwaitResultRequest).AfterVersion != nil {
		t.Errorf("reopened with after_version %v", reqs[1])
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
