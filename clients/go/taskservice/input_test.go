package taskservice_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

var askedAt = time.Date(2026, 9, 1, 12, 30, 0, 0, time.UTC)

// waiting is a task waiting for the answer to its question input-1.
func waiting(id string) *pb.Task {
	return &pb.Task{TaskId: id, ToolName: "ask", Status: pb.TaskStatus_TASK_STATUS_INPUT_REQUIRED, InputRequest: &pb.InputRequest{
		Id: "input-1", Message: "Deploy now?", SchemaJson: `{"type":"object","required":["answer"]}`,
		RequestedAt: timestamppb.New(askedAt),
	}}
}

func TestATaskWaitingForInputCarriesItsQuestion(t *testing.T) {
	f := &fake{
		execute: func(context.Context, int, *pb.ExecuteRequest) (*pb.ExecuteResponse, error) {
			return &pb.ExecuteResponse{Backgrounded: true, Text: `{"status":"input_required"}`, Task: waiting("t1")}, nil
		},
		awaitResult: script([][]*pb.AwaitResultResponse{{
			update(snapshot, 1, waiting("t1")),
			update(pb.UpdateKind_UPDATE_KIND_INPUT, 2, running("t1")),
			update(terminal, 3, completed("t1", "answer: yes")),
		}}, []error{nil}),
	}
	client := serve(t, f)
	exec, err := client.Execute(ctxFor(t), "ask", map[string]any{"question": "Deploy now?"})
	if err != nil {
		t.Fatal(err)
	}
	task := exec.Task
	if !exec.Backgrounded || task.Status != taskservice.StatusInputRequired || task.Done() || task.Err() != nil {
		t.Fatalf("execution = %+v, task %+v", exec, task)
	}
	q := task.InputRequest
	if q == nil || q.ID != "input-1" || q.Message != "Deploy now?" ||
		string(q.Schema) != `{"type":"object","required":["answer"]}` || !q.RequestedAt.Equal(askedAt) {
		t.Fatalf("input request = %+v", q)
	}

	var got []taskservice.Update
	for u, err := range exec.Handle.Await(ctxFor(t)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u)
	}
	if len(got) != 3 || got[0].Task.InputRequest == nil || got[1].Kind != taskservice.UpdateInput || got[1].Final() ||
		got[1].Task.InputRequest != nil || got[1].Task.Status != taskservice.StatusRunning {
		t.Errorf("updates = %+v", got)
	}
}

func TestProvideInputSendsTheAnswer(t *testing.T) {
	f := &fake{provideInput: func(_ context.Context, _ int, req *pb.ProvideInputRequest) (*pb.ProvideInputResponse, error) {
		return &pb.ProvideInputResponse{Task: running(req.GetTaskId())}, nil
	}}
	client := serve(t, f)
	answers := []struct {
		answer any
		want   string
	}{
		{map[string]any{"answer": "yes"}, `{"answer":"yes"}`},
		{struct {
			Go bool `json:"go"`
		}{true}, `{"go":true}`},
		{json.RawMessage(`{"answer": "raw"}`), `{"answer": "raw"}`},
		{`{"answer": "as typed"}`, `{"answer": "as typed"}`},
		{nil, `{}`},
	}
	for _, a := range answers {
		task, err := client.ProvideInput(ctxFor(t), "t1", "input-1", a.answer)
		if err != nil || task.ID != "t1" || task.Status != taskservice.StatusRunning {
			t.Fatalf("ProvideInput(%#v) = %+v, %v", a.answer, task, err)
		}
	}
	if _, err := client.Handle("t2", taskservice.WithUser("alice")).ProvideInput(ctxFor(t), "input-3", map[string]bool{"go": false}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ProvideInput(ctxFor(t), "t1", "input-1", make(chan int)); err == nil {
		t.Error("an answer that does not encode as JSON was sent")
	}

	reqs, _ := f.received("ProvideInput")
	if len(reqs) != len(answers)+1 {
		t.Fatalf("%d requests, want %d", len(reqs), len(answers)+1)
	}
	for i, a := range answers {
		req := reqs[i].(*pb.ProvideInputRequest)
		if req.GetTaskId() != "t1" || req.GetInputRequestId() != "input-1" || req.GetUserId() != "" || req.GetResponseJson() != a.want {
			t.Errorf("answer %#v sent as %v, want response_json %s", a.answer, req, a.want)
		}
	}
	last := reqs[len(answers)].(*pb.ProvideInputRequest)
	if last.GetTaskId() != "t2" || last.GetUserId() != "alice" || last.GetInputRequestId() != "input-3" || last.GetResponseJson() != `{"go":false}` {
		t.Errorf("the handle's answer = %v, want t2 for alice", last)
	}
}

func TestProvideInputIsNeverRetried(t *testing.T) {
	// The first attempt may have been taken with its reply lost; a retry
	// would then come back FAILED_PRECONDITION and hide that it worked.
	f := &fake{provideInput: unavailableFor[*pb.ProvideInputRequest](1, &pb.ProvideInputResponse{Task: running("t1")})}
	client := serve(t, f)
	if _, err := client.ProvideInput(ctxFor(t), "t1", "input-1", nil); !errors.Is(err, taskservice.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if n := f.count("ProvideInput"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestProvideInputErrorsAreTheServers(t *testing.T) {
	for _, tc := range []struct {
		code     codes.Code
		sentinel error
	}{
		{codes.InvalidArgument, taskservice.ErrInvalidArgument},
		{codes.FailedPrecondition, taskservice.ErrFailedPrecondition},
		{codes.NotFound, taskservice.ErrNotFound},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			f := &fake{provideInput: func(context.Context, int, *pb.ProvideInputRequest) (*pb.ProvideInputResponse, error) {
				return nil, status.Error(tc.code, `response_json: field "answer" must be string`)
			}}
			_, err := serve(t, f).ProvideInput(ctxFor(t), "t1", "input-1", map[string]int{"answer": 5})
			var e *taskservice.Error
			if !errors.Is(err, tc.sentinel) || !errors.As(err, &e) || e.Code != tc.code ||
				e.Message != `response_json: field "answer" must be string` {
				t.Errorf("err = %v, want %s with the server's message", err, tc.code)
			}
			if n := f.count("ProvideInput"); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
		})
	}
}
