package taskservice_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

type execStream = grpc.ServerStreamingServer[pb.ExecuteStreamResponse]

func evOutput(offset uint64, text string) *pb.ExecuteStreamResponse {
	return &pb.ExecuteStreamResponse{Event: &pb.ExecuteStreamResponse_Output{Output: &pb.OutputChunk{Offset: offset, Text: text}}}
}

func evProgress(fraction float64, message string) *pb.ExecuteStreamResponse {
	return &pb.ExecuteStreamResponse{Event: &pb.ExecuteStreamResponse_Progress{Progress: &pb.Progress{Fraction: fraction, Message: message}}}
}

func evAnswer(backgrounded bool, task *pb.Task) *pb.ExecuteStreamResponse {
	text := task.GetResult()
	if backgrounded {
		text = `{"task_id":"` + task.GetTaskId() + `"}`
	}
	return &pb.ExecuteStreamResponse{Event: &pb.ExecuteStreamResponse_Answer{Answer: &pb.ExecuteResponse{
		Backgrounded: backgrounded, Task: task, Text: text,
	}}}
}

func evUpdate(u *pb.AwaitResultResponse) *pb.ExecuteStreamResponse {
	return &pb.ExecuteStreamResponse{Event: &pb.ExecuteStreamResponse_Update{Update: u}}
}

// execScript sends the events of stream n, then ends it with end[n].
func execScript(events [][]*pb.ExecuteStreamResponse, end []error) func(int, *pb.ExecuteRequest, execStream) error {
	return func(n int, _ *pb.ExecuteRequest, stream execStream) error {
		for _, e := range events[n-1] {
			if err := stream.Send(e); err != nil {
				return err
			}
		}
		return end[n-1]
	}
}

// watched is what an ExecuteStream loop saw: a line per event, and the
// output from the events' Output, checked to be contiguous.
type watched struct {
	events []string
	output strings.Builder
}

func (w *watched) saw(t *testing.T, ev taskservice.Event) {
	t.Helper()
	line := ev.Kind.String()
	switch ev.Kind {
	case taskservice.EventOutput:
		line += " " + ev.Output.Text
	case taskservice.EventProgress:
		line += " " + ev.Progress.Message
	case taskservice.EventAnswer:
		line += fmt.Sprintf(" backgrounded=%v %s", ev.Answer.Backgrounded, ev.Answer.Task.Status)
	case taskservice.EventUpdate:
		line += " " + ev.Update.Kind.String()
		if ev.Update.Output != nil {
			line += " " + ev.Update.Output.Text
		}
	}
	w.events = append(w.events, line)
	if ev.Output != nil {
		if ev.Output.Offset != uint64(w.output.Len()) {
			t.Fatalf("output at %d after %d bytes", ev.Output.Offset, w.output.Len())
		}
		w.output.WriteString(ev.Output.Text)
	}
}

func (w *watched) run(t *testing.T, seq func(func(taskservice.Event, error) bool)) error {
	t.Helper()
	for ev, err := range seq {
		if err != nil {
			return err
		}
		w.saw(t, ev)
	}
	return nil
}

func TestExecuteStreamYieldsInlineOutputAndProgressThenTheAnswer(t *testing.T) {
	f := &fake{execStream: execScript([][]*pb.ExecuteStreamResponse{{
		evOutput(0, "tick 1\n"), evProgress(0.5, "1 of 2"), evOutput(7, "tick 2\n"), evProgress(1, "2 of 2"),
		evAnswer(false, completed("", "ticked 2")),
	}}, []error{nil})}
	client := serve(t, f)
	var w watched
	if err := w.run(t, client.ExecuteStream(ctxFor(t), "ticker", map[string]any{"count": 2}, taskservice.WithUser("alice"))); err != nil {
		t.Fatal(err)
	}
	want := []string{"output tick 1\n", "progress 1 of 2", "output tick 2\n", "progress 2 of 2", "answer backgrounded=false TASK_STATUS_COMPLETED"}
	if !slices.Equal(w.events, want) {
		t.Errorf("events = %q, want %q", w.events, want)
	}
	reqs, _ := f.received("ExecuteStream")
	if r := reqs[0].(*pb.ExecuteRequest); r.GetToolName() != "ticker" || r.GetArgumentsJson() != `{"count":2}` || r.GetUserId() != "alice" {
		t.Errorf("request = %v", r)
	}
	if f.count("GetResult") != 0 {
		t.Error("read output an inline call had already streamed")
	}
}

func TestExecuteStreamResumesAfterABackgroundedAnswerThroughAwaitResult(t *testing.T) {
	f := &fake{
		execStream: execScript([][]*pb.ExecuteStreamResponse{{
			evOutput(0, "tick 1\n"),
			evAnswer(true, at(running("t1"), 2)),
			evUpdate(outputUpdate(1, at(running("t1"), 2), 7, "tick 2\n")),
			evUpdate(update(progress, 2, at(running("t1"), 3))),
		}}, []error{unavailable}),
		awaitResult: script([][]*pb.AwaitResultResponse{
			{},
			{
				outputUpdate(1, at(running("t1"), 3), 7, "tick 2\ntick 3\n"), // partly seen
				update(progress, 2, at(running("t1"), 4)),
				update(terminal, 3, at(completed("t1", "ticked 3"), 5)),
			},
		}, []error{unavailable, nil}),
	}
	client := serve(t, f)
	var w watched
	if err := w.run(t, client.ExecuteStream(ctxFor(t), "ticker", nil, taskservice.WithUser("bob"))); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"output tick 1\n", "answer backgrounded=true TASK_STATUS_RUNNING",
		"update UPDATE_KIND_OUTPUT tick 2\n", "update UPDATE_KIND_PROGRESS",
		"update UPDATE_KIND_OUTPUT tick 3\n", "update UPDATE_KIND_PROGRESS", "update UPDATE_KIND_TERMINAL",
	}
	if !slices.Equal(w.events, want) {
		t.Errorf("events = %q, want %q", w.events, want)
	}
	reqs, _ := f.received("AwaitResult")
	for _, r := range reqs {
		req := r.(*pb.AwaitResultRequest)
		if req.GetTaskId() != "t1" || req.GetUserId() != "bob" || req.GetAfterVersion() != 3 || req.OutputOffset == nil || req.GetOutputOffset() != 14 {
			t.Errorf("AwaitResult request = %v, want t1 for bob after version 3 from byte 14", req)
		}
	}
	if f.count("ExecuteStream") != 1 {
		t.Errorf("%d ExecuteStream calls: a backgrounded call was sent again", f.count("ExecuteStream"))
	}
}

func TestExecuteStreamRenewsTheWaitLimitUntilTheTerminalUpdate(t *testing.T) {
	f := &fake{
		execStream: execScript([][]*pb.ExecuteStreamResponse{{
			evAnswer(true, at(running("t1"), 1)),
			evUpdate(update(waitTimedOut, 1, at(running("t1"), 1))),
		}}, []error{nil}),
		awaitResult: script([][]*pb.AwaitResultResponse{
			{update(waitTimedOut, 1, at(running("t1"), 1))},
			{update(terminal, 1, at(completed("t1", "done"), 2))},
		}, []error{nil, nil}),
	}
	var w watched
	if err := w.run(t, serve(t, f).ExecuteStream(ctxFor(t), "sleep", nil)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"answer backgrounded=true TASK_STATUS_RUNNING", "update UPDATE_KIND_TERMINAL"}; !slices.Equal(w.events, want) {
		t.Errorf("events = %q, want %q", w.events, want)
	}
}

func TestExecuteStreamDroppedBeforeTheAnswerIsAnErrorWithoutARequestID(t *testing.T) {
	f := &fake{execStream: execScript([][]*pb.ExecuteStreamResponse{{evOutput(0, "tick 1\n")}}, []error{unavailable})}
	var w watched
	err := w.run(t, serve(t, f).ExecuteStream(ctxFor(t), "ticker", nil))
	if !errors.Is(err, taskservice.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if n := f.count("ExecuteStream"); n != 1 {
		t.Errorf("%d calls: a call without a request id was sent again", n)
	}
}

func TestExecuteStreamWithARequestIDIsSentAgainAndRepeatsNoOutput(t *testing.T) {
	f := &fake{execStream: execScript([][]*pb.ExecuteStreamResponse{
		{evOutput(0, "tick 1\n")},
		{},
		{
			// The same task, now backgrounded; its updates start from byte 0.
			evAnswer(true, at(running("t1"), 2)),
			evUpdate(outputUpdate(1, at(running("t1"), 2), 0, "tick 1\ntick 2\n")),
			evUpdate(update(terminal, 2, at(completed("t1", "ticked 2"), 3))),
		},
	}, []error{unavailable, unavailable, nil})}
	var w watched
	if err := w.run(t, serve(t, f).ExecuteStream(ctxFor(t), "ticker", nil, taskservice.WithRequestID("call-1"))); err != nil {
		t.Fatal(err)
	}
	want := []string{"output tick 1\n", "answer backgrounded=true TASK_STATUS_RUNNING", "update UPDATE_KIND_OUTPUT tick 2\n", "update UPDATE_KIND_TERMINAL"}
	if !slices.Equal(w.events, want) {
		t.Errorf("events = %q, want %q", w.events, want)
	}
	reqs, _ := f.received("ExecuteStream")
	for _, r := range reqs {
		if r.(*pb.ExecuteRequest).GetRequestId() != "call-1" {
			t.Errorf("request = %v", r)
		}
	}
}

func TestExecuteStreamSentAgainReadsTheOutputAnInlineAnswerLeftOut(t *testing.T) {
	// The task finished while the call was being sent again: the answer is
	// inline, and what the tool wrote after the first stream dropped is read.
	done := at(completed("t1", "ticked 3"), 4)
	done.RequestId = "call-1"
	done.OutputBytes = 21
	f := &fake{
		execStream: execScript([][]*pb.ExecuteStreamResponse{
			{evOutput(0, "tick 1\n")},
			{evAnswer(false, done)},
		}, []error{unavailable, nil}),
		getResult: outputServer("tick 1\ntick 2\ntick 3\n", 1<<20, done),
	}
	var w watched
	if err := w.run(t, serve(t, f).ExecuteStream(ctxFor(t), "ticker", nil, taskservice.WithRequestID("call-1"))); err != nil {
		t.Fatal(err)
	}
	want := []string{"output tick 1\n", "output tick 2\ntick 3\n", "answer backgrounded=false TASK_STATUS_COMPLETED"}
	if !slices.Equal(w.events, want) {
		t.Errorf("events = %q, want %q", w.events, want)
	}
	reqs, _ := f.received("GetResult")
	if len(reqs) != 1 || reqs[0].(*pb.GetResultRequest).GetOutputOffset() != 7 {
		t.Errorf("GetResult requests = %v, want one from byte 7", reqs)
	}
}

func TestExecuteStreamRefusedIsExecutesError(t *testing.T) {
	f := &fake{execStream: func(int, *pb.ExecuteRequest, execStream) error {
		return status.Error(codes.InvalidArgument, `arguments_json: field "count" must be integer`)
	}}
	var w watched
	if err := w.run(t, serve(t, f).ExecuteStream(ctxFor(t), "ticker", map[string]any{"count": "x"}, taskservice.WithRequestID("r"))); !errors.Is(err, taskservice.ErrInvalidArgument) {
		t.Errorf("err = %v, want ErrInvalidArgument", err)
	}
	if n := f.count("ExecuteStream"); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestExecuteStreamFallsBackToExecuteAndAwaitOnAnOlderServer(t *testing.T) {
	f := &fake{
		execStream: func(int, *pb.ExecuteRequest, execStream) error {
			return status.Error(codes.Unimplemented, "unknown method")
		},
		execute: func(_ context.Context, _ int, req *pb.ExecuteRequest) (*pb.ExecuteResponse, error) {
			return &pb.ExecuteResponse{Backgrounded: true, Task: running("t1"), Text: "{}"}, nil
		},
		awaitResult: script([][]*pb.AwaitResultResponse{{
			update(snapshot, 1, running("t1")), update(terminal, 2, completed("t1", "done")),
		}}, []error{nil}),
	}
	var w watched
	if err := w.run(t, serve(t, f).ExecuteStream(ctxFor(t), "sleep", nil)); err != nil {
		t.Fatal(err)
	}
	// The snapshot repeats the answer's state: as a change it is progress.
	want := []string{"answer backgrounded=true TASK_STATUS_RUNNING", "update UPDATE_KIND_PROGRESS", "update UPDATE_KIND_TERMINAL"}
	if !slices.Equal(w.events, want) {
		t.Errorf("events = %q, want %q", w.events, want)
	}
	if f.count("Execute") != 1 {
		t.Errorf("%d Execute calls, want 1", f.count("Execute"))
	}
}

func TestLeavingTheExecuteStreamLoopClosesTheStream(t *testing.T) {
	closed := make(chan struct{})
	f := &fake{execStream: func(_ int, _ *pb.ExecuteRequest, stream execStream) error {
		if err := stream.Send(evOutput(0, "tick 1\n")); err != nil {
			return err
		}
		<-stream.Context().Done()
		close(closed)
		return nil
	}}
	for range serve(t, f).ExecuteStream(ctxFor(t), "ticker", nil) {
		break
	}
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("the server's stream was still open after the loop ended")
	}
}
