package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
	"github.com/taskservice/taskservice/clients/go/worker"
)

// deploySchema is the answer a deploy tool asks for.
const deploySchema = `{"type":"object","properties":{"go":{"type":"boolean"},"note":{"type":"string"}},"required":["go"],"additionalProperties":false}`

type deployArgs struct {
	Target string `json:"target"`
}

// deployTool asks whether to deploy and answers with what it was told.
func deployTool(name string) worker.Tool {
	return worker.Func(name, "Deploys after asking.",
		json.RawMessage(`{"type":"object","properties":{"target":{"type":"string"}},"required":["target"]}`),
		func(ctx context.Context, call *worker.Call, args deployArgs) (any, error) {
			call.Progress(0.1, "asking")
			answer, err := call.RequestInput(ctx, "Deploy to "+args.Target+"?", json.RawMessage(deploySchema))
			if err != nil {
				return nil, err
			}
			if answer["go"] != true {
				return "not deployed", nil
			}
			return fmt.Sprintf("deployed to %s (%v)", args.Target, answer["note"]), nil
		})
}

// asking is a tool whose handler hands the test what RequestInput returned
// and fails with it.
func asking(name string, errs chan<- error) worker.Tool {
	return worker.Tool{Name: name, Description: "Asks and reports.", Handler: func(ctx context.Context, call *worker.Call) (any, error) {
		_, err := call.RequestInput(ctx, "Proceed?", `{"type":"object"}`)
		errs <- err
		return nil, err
	}}
}

// backgroundedAtTheQuestion executes tool and checks that the call came
// back at once, waiting for input, with a question; it returns the execution.
func backgroundedAtTheQuestion(t *testing.T, c *taskservice.Client, tool string, args any, user string) *taskservice.Execution {
	t.Helper()
	begin := time.Now()
	exec, err := c.Execute(ctxFor(t), tool, args, taskservice.WithUser(user), taskservice.WithBudget(8*time.Second))
	if err != nil {
		t.Fatalf("Execute %s: %v", tool, err)
	}
	if !exec.Backgrounded || exec.Handle == nil || exec.Task.Status != taskservice.StatusInputRequired || exec.Task.InputRequest == nil {
		t.Fatalf("execution = %+v, task %+v; want backgrounded waiting for input", exec, exec.Task)
	}
	// Backgrounded by the question, not by the 8 s budget.
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("Execute took %v", took)
	}
	return exec
}

func TestAWorkersQuestionIsAnsweredThroughTheClient(t *testing.T) {
	startWorker(t, deployTool("go_deploy"))
	c := dialClient(t)
	u := user(t)

	exec := backgroundedAtTheQuestion(t, c, "go_deploy", deployArgs{Target: "prod"}, u)
	q := exec.Task.InputRequest
	var compact bytes.Buffer
	_ = json.Compact(&compact, q.Schema)
	if q.ID == "" || q.Message != "Deploy to prod?" || compact.String() != deploySchema ||
		time.Since(q.RequestedAt) > time.Minute || time.Since(q.RequestedAt) < 0 {
		t.Errorf("question = %+v (schema %s)", q, q.Schema)
	}
	if snap, err := exec.Handle.Get(ctxFor(t)); err != nil || snap.Task.InputRequest == nil || snap.Task.InputRequest.ID != q.ID {
		t.Fatalf("Get = %+v, %v; want the same question", snap, err)
	}

	// A wrong answer: INVALID_ARGUMENT naming the field; the task still waits.
	_, err := exec.Handle.ProvideInput(ctxFor(t), q.ID, map[string]any{"go": "yes"})
	var e *taskservice.Error
	if !errors.Is(err, taskservice.ErrInvalidArgument) || !errors.As(err, &e) || !strings.Contains(e.Message, "go") {
		t.Fatalf("ProvideInput with a string for a boolean = %v, want ErrInvalidArgument naming the field", err)
	}
	// Another user's task looks like no task.
	if _, err := c.ProvideInput(ctxFor(t), exec.Task.ID, q.ID, map[string]any{"go": true}, taskservice.WithUser(u+"-other")); !errors.Is(err, taskservice.ErrNotFound) {
		t.Errorf("ProvideInput as another user = %v, want ErrNotFound", err)
	}

	// Answered from an Await loop, as an inference service would.
	var last taskservice.Update
	for upd, err := range exec.Handle.Await(ctxFor(t)) {
		if err != nil {
			t.Fatal(err)
		}
		last = upd
		if upd.Task.Status != taskservice.StatusInputRequired {
			continue
		}
		if upd.Task.InputRequest == nil || upd.Task.InputRequest.ID != q.ID {
			t.Fatalf("update %v waits without the question: %+v", upd.Kind, upd.Task)
		}
		task, err := exec.Handle.ProvideInput(ctxFor(t), q.ID, map[string]any{"go": true, "note": "friday"})
		if err != nil {
			t.Fatalf("ProvideInput: %v", err)
		}
		if task.ID != exec.Task.ID || task.Status != taskservice.StatusRunning || task.InputRequest != nil {
			t.Errorf("ProvideInput returned %+v, want the task running again without a question", task)
		}
	}
	if last.Kind != taskservice.UpdateTerminal || last.Task.Status != taskservice.StatusCompleted || last.Task.Result != "deployed to prod (friday)" {
		t.Errorf("last update = %v %+v, want COMPLETED with the answer's note", last.Kind, last.Task)
	}

	// The question is answered: the same id again is a failed precondition.
	if _, err := exec.Handle.ProvideInput(ctxFor(t), q.ID, map[string]any{"go": false}); !errors.Is(err, taskservice.ErrFailedPrecondition) {
		t.Errorf("a second answer = %v, want ErrFailedPrecondition", err)
	}
}

func TestCancelWhileAWorkerWaitsEndsRequestInputWithTheCancellation(t *testing.T) {
	errs := make(chan error, 1)
	startWorker(t, asking("go_confirm_cancel", errs))
	c := dialClient(t)

	exec := backgroundedAtTheQuestion(t, c, "go_confirm_cancel", nil, user(t))
	if task, err := exec.Handle.Cancel(ctxFor(t)); err != nil || task.Status != taskservice.StatusFailed || task.Reason != taskservice.ReasonCancelled {
		t.Fatalf("Cancel = %+v, %v", task, err)
	}
	err := recv(t, errs, "RequestInput to return")
	var ce *worker.CancelledError
	if !errors.As(err, &ce) || ce.Reason != pb.FailureReason_FAILURE_REASON_CANCELLED {
		t.Fatalf("RequestInput = %v, want a CANCELLED CancelledError", err)
	}
	_, err = exec.Handle.Wait(ctxFor(t))
	var failed *taskservice.TaskFailedError
	if !errors.As(err, &failed) || failed.Reason != taskservice.ReasonCancelled {
		t.Errorf("Wait = %v, want the task failed CANCELLED (not by the handler's error)", err)
	}
}

func TestAQuestionWithoutAnAnswerTimesOut(t *testing.T) {
	errs := make(chan error, 1)
	tool := asking("go_confirm_timeout", errs)
	tool.InputTimeout = 300 * time.Millisecond
	startWorker(t, tool)
	c := dialClient(t)

	exec := backgroundedAtTheQuestion(t, c, "go_confirm_timeout", nil, user(t))
	err := recv(t, errs, "RequestInput to time out")
	var ce *worker.CancelledError
	if !errors.As(err, &ce) || ce.Reason != pb.FailureReason_FAILURE_REASON_INPUT_TIMEOUT {
		t.Fatalf("RequestInput = %v, want an INPUT_TIMEOUT CancelledError", err)
	}
	task, err := exec.Handle.Wait(ctxFor(t))
	var failed *taskservice.TaskFailedError
	if !errors.As(err, &failed) || failed.Reason != taskservice.ReasonInputTimeout || task.Reason != taskservice.ReasonInputTimeout {
		t.Errorf("Wait = %+v, %v; want the task failed INPUT_TIMEOUT", task, err)
	}
}

func TestTheServersRefusalIsAnInputRequestError(t *testing.T) {
	errs := make(chan error, 1)
	tool := asking("go_confirm_inline", errs)
	tool.NoBackground = true // its caller waits, so nobody could answer
	startWorker(t, tool)
	c := dialClient(t)

	exec, err := c.Execute(ctxFor(t), "go_confirm_inline", nil, taskservice.WithUser(user(t)))
	if err != nil {
		t.Fatal(err)
	}
	askErr := recv(t, errs, "RequestInput to return")
	var refused *worker.InputRequestError
	if !errors.As(askErr, &refused) || refused.TaskID == "" || !strings.Contains(refused.Message, "no_background") {
		t.Fatalf("RequestInput = %v, want an InputRequestError with the server's reason", askErr)
	}
	// The handler returned it: the task failed with its message.
	var failed *taskservice.TaskFailedError
	if exec.Backgrounded || !errors.As(exec.Err(), &failed) || failed.Reason != taskservice.ReasonToolError ||
		!strings.Contains(failed.Message, "could not be asked") {
		t.Errorf("execution = %+v, Err = %v", exec, exec.Err())
	}
}

func TestAWorkerStoppedWhileWaitingLosesTheTask(t *testing.T) {
	errs := make(chan error, 1)
	w := startWorker(t, asking("go_confirm_stop", errs))
	c := dialClient(t)

	exec := backgroundedAtTheQuestion(t, c, "go_confirm_stop", nil, user(t))
	if err := w.stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := recv(t, errs, "RequestInput to return"); !errors.Is(err, worker.ErrStopped) {
		t.Errorf("RequestInput = %v, want ErrStopped", err)
	}
	_, err := exec.Handle.Wait(ctxFor(t))
	var failed *taskservice.TaskFailedError
	if !errors.As(err, &failed) || failed.Reason != taskservice.ReasonWorkerLost {
		t.Errorf("Wait = %v, want the task failed WORKER_LOST", err)
	}
}

func TestTheClientAnswersTheExampleAskTool(t *testing.T) {
	c := dialClient(t)
	exec := backgroundedAtTheQuestion(t, c, "ask", map[string]string{"question": "Ship it?"}, user(t))
	q := exec.Task.InputRequest
	if q.Message != "Ship it?" || !bytes.Contains(q.Schema, []byte(`"answer"`)) {
		t.Errorf("question = %+v (schema %s)", q, q.Schema)
	}
	if _, err := exec.Handle.ProvideInput(ctxFor(t), q.ID+"-stale", map[string]string{"answer": "no"}); !errors.Is(err, taskservice.ErrFailedPrecondition) {
		t.Errorf("an answer to another question = %v, want ErrFailedPrecondition", err)
	}
	if _, err := exec.Handle.ProvideInput(ctxFor(t), q.ID, map[string]int{"answer": 42}); !errors.Is(err, taskservice.ErrInvalidArgument) {
		t.Errorf("a number for a string = %v, want ErrInvalidArgument", err)
	}
	if _, err := exec.Handle.ProvideInput(ctxFor(t), q.ID, `{"answer": "yes"}`); err != nil {
		t.Fatalf("ProvideInput: %v", err)
	}
	task, err := exec.Handle.Wait(ctxFor(t))
	if err != nil || task.Status != taskservice.StatusCompleted || task.Result != "answer: yes" {
		t.Errorf("Wait = %+v, %v; want COMPLETED with the answer", task, err)
	}
}

func TestAToolAsksAgainAfterAnAnswer(t *testing.T) {
	startWorker(t, worker.Tool{Name: "go_two_questions", Description: "Asks twice.", Handler: func(ctx context.Context, call *worker.Call) (any, error) {
		var got []any
		for _, question := range []string{"First name?", "Last name?"} {
			answer, err := call.RequestInput(ctx, question, `{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`)
			if err != nil {
				return nil, err
			}
			got = append(got, answer["name"])
		}
		return got, nil
	}})
	c := dialClient(t)
	u := user(t)

	exec := backgroundedAtTheQuestion(t, c, "go_two_questions", nil, u)
	first := exec.Task.InputRequest
	if first.Message != "First name?" {
		t.Fatalf("first question = %+v", first)
	}
	// Listed among the user's tasks that wait for input.
	listed := false
	for task, err := range c.List(ctxFor(t), taskservice.WithUser(u), taskservice.WithStatus(taskservice.StatusInputRequired)) {
		if err != nil {
			t.Fatal(err)
		}
		listed = listed || (task.ID == exec.Task.ID && task.InputRequest != nil && task.InputRequest.ID == first.ID)
	}
	if !listed {
		t.Error("List with StatusInputRequired does not show the waiting task with its question")
	}
	if _, err := exec.Handle.ProvideInput(ctxFor(t), first.ID, map[string]string{"name": "Ada"}); err != nil {
		t.Fatal(err)
	}

	// The second question has an id of its own; the first one's is stale.
	var second *taskservice.InputRequest
	for upd, err := range exec.Handle.Await(ctxFor(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if q := upd.Task.InputRequest; q != nil && q.ID != first.ID {
			second = q
			break
		}
		if upd.Final() {
			t.Fatalf("the task ended without a second question: %+v", upd.Task)
		}
	}
	if second == nil || second.Message != "Last name?" {
		t.Fatalf("second question = %+v", second)
	}
	if _, err := exec.Handle.ProvideInput(ctxFor(t), first.ID, map[string]string{"name": "Byron"}); !errors.Is(err, taskservice.ErrFailedPrecondition) {
		t.Errorf("an answer to the first question = %v, want ErrFailedPrecondition", err)
	}
	if _, err := exec.Handle.ProvideInput(ctxFor(t), second.ID, map[string]string{"name": "Lovelace"}); err != nil {
		t.Fatal(err)
	}
	task, err := exec.Handle.Wait(ctxFor(t))
	if err != nil || task.Result != `["Ada","Lovelace"]` {
		t.Errorf("Wait = %+v, %v; want both answers", task, err)
	}
}

// Await keeps only the newest state for its reader, so the tool waits for
// the test at each step: every state lasts until the test has seen it.
func TestAwaitSeesTheQuestionComeAndGo(t *testing.T) {
	ask, finish := make(chan struct{}), make(chan struct{})
	startWorker(t, worker.Tool{Name: "go_ask_later", Description: "Asks when told.", Handler: func(ctx context.Context, call *worker.Call) (any, error) {
		select {
		case <-ask:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		answer, err := call.RequestInput(ctx, "Colour?", `{"type":"object","properties":{"colour":{"type":"string"}},"required":["colour"]}`)
		if err != nil {
			return nil, err
		}
		select {
		case <-finish:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		return answer["colour"], nil
	}})
	c := dialClient(t)
	exec, err := c.Execute(ctxFor(t), "go_ask_later", nil, taskservice.WithUser(user(t)), taskservice.WithBudget(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !exec.Backgrounded || exec.Task.Status != taskservice.StatusRunning || exec.Task.InputRequest != nil {
		t.Fatalf("execution = %+v, task %+v; want backgrounded by its budget, running", exec, exec.Task)
	}

	type seen struct {
		kind   taskservice.UpdateKind
		status taskservice.Status
		asked  string
	}
	var got []seen
	var last taskservice.Update
	for upd, err := range exec.Handle.Await(ctxFor(t)) {
		if err != nil {
			t.Fatal(err)
		}
		last = upd
		s := seen{kind: upd.Kind, status: upd.Task.Status}
		if q := upd.Task.InputRequest; q != nil {
			s.asked = q.Message
		}
		got = append(got, s)
		switch {
		case upd.Kind == taskservice.UpdateSnapshot:
			close(ask)
		case upd.Task.Status == taskservice.StatusInputRequired:
			if _, err := exec.Handle.ProvideInput(ctxFor(t), upd.Task.InputRequest.ID, map[string]string{"colour": "teal"}); err != nil {
				t.Fatal(err)
			}
		case upd.Kind == taskservice.UpdateInput:
			close(finish)
		}
	}
	want := []seen{
		{taskservice.UpdateSnapshot, taskservice.StatusRunning, ""},
		{taskservice.UpdateInput, taskservice.StatusInputRequired, "Colour?"},
		{taskservice.UpdateInput, taskservice.StatusRunning, ""},
		{taskservice.UpdateTerminal, taskservice.StatusCompleted, ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || last.Task.Result != "teal" {
		t.Errorf("updates\n got %v\nwant %v (result %q)", got, want, last.Task.Result)
	}
}
