package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/taskservice/taskservice/clients/go/worker"
)

// question is the worker's next message, which must be taskID's question.
func (c *serverConn) question(taskID string) *pb.InvocationInputRequest {
	c.t.Helper()
	m := c.next()
	q := m.GetInputRequest()
	if q == nil || q.GetTaskId() != taskID {
		c.t.Fatalf("want the question of %s, got %v", taskID, m)
	}
	return q
}

// answer sends the answer to taskID's question.
func (c *serverConn) answer(taskID, responseJSON string) {
	c.t.Helper()
	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Input{Input: &pb.InvocationInput{
		TaskId: taskID, Outcome: &pb.InvocationInput_ResponseJson{ResponseJson: responseJSON},
	}}})
}

// refuse tells the worker why taskID's question cannot be asked.
func (c *serverConn) refuse(taskID, why string) {
	c.t.Helper()
	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Input{Input: &pb.InvocationInput{
		TaskId: taskID, Outcome: &pb.InvocationInput_Error{Error: why},
	}}})
}

var goSchema = map[string]any{
	"type":       "object",
	"properties": map[string]any{"go": map[string]any{"type": "boolean"}},
	"required":   []string{"go"},
}

func TestRequestInputSendsTheQuestionAndReturnsTheAnswer(t *testing.T) {
	asked := make(chan struct{})
	_, c := serve(t, worker.Options{}, tool("deploy", func(ctx context.Context, call *worker.Call) (any, error) {
		call.Progress(0.25, "before")
		close(asked)
		answer, err := call.RequestInput(ctx, "Deploy to prod?", goSchema)
		if err != nil {
			return nil, err
		}
		call.Progress(0.75, "after")
		return fmt.Sprintf("go=%v n=%v", answer["go"], answer["n"]), nil
	}))

	c.invoke("t1", "deploy", map[string]any{})
	recv(t, asked, "the handler to ask")
	if p := c.next().GetProgress(); p.GetMessage() != "before" {
		t.Fatalf("first message = %v, want the progress made before the question", p)
	}
	q := c.question("t1")
	if q.GetMessage() != "Deploy to prod?" ||
		q.GetSchemaJson() != `{"properties":{"go":{"type":"boolean"}},"required":["go"],"type":"object"}` {
		t.Errorf("question = %v", q)
	}
	// The handler waits: nothing more comes until the answer.
	c.pong(1)
	c.answer("t1", `{"go": true, "n": 2}`)
	if p := c.next().GetProgress(); p.GetMessage() != "after" {
		t.Fatalf("after the answer = %v, want the progress made after it", p)
	}
	if r := c.result("t1"); r.GetResult() != "go=true n=2" {
		t.Errorf("result = %v, want the answer's fields", r)
	}
}

func TestRequestInputReturnsTheServersRefusalAndCanAskAgain(t *testing.T) {
	errs := make(chan error, 2)
	_, c := serve(t, worker.Options{}, tool("ask_twice", func(ctx context.Context, call *worker.Call) (any, error) {
		_, err := call.RequestInput(ctx, "First?", json.RawMessage("{\n  \"type\": \"object\"\n}"))
		errs <- err
		_, err = call.RequestInput(ctx, "Second?", `{"type":"object"}`)
		errs <- err
		answer, err := call.RequestInput(ctx, "Third?", []byte(`{"type":"object"}`))
		if err != nil {
			return nil, err
		}
		return answer, nil
	}))

	c.invoke("t1", "ask_twice", map[string]any{})
	if q := c.question("t1"); q.GetMessage() != "First?" || q.GetSchemaJson() != `{"type":"object"}` {
		t.Errorf("first question = %v, want the schema compacted", q)
	}
	c.refuse("t1", "ctx.requestInput: a no_background tool cannot wait for input")
	err := recv(t, errs, "the refusal")
	var refused *worker.InputRequestError
	if !errors.As(err, &refused) || refused.TaskID != "t1" ||
		refused.Message != "ctx.requestInput: a no_background tool cannot wait for input" {
		t.Fatalf("err = %#v, want an InputRequestError with the server's reason", err)
	}
	if want := "worker: the question of task t1 could not be asked: ctx.requestInput: a no_background tool cannot wait for input"; err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}

	// A refusal closes the question, so the next one is sent.
	c.question("t1")
	c.answer("t1", `[1, 2]`) // a server bug: not an object
	if err := recv(t, errs, "the bad answer"); err == nil || errors.As(err, &refused) ||
		!strings.Contains(err.Error(), "is not a JSON object") {
		t.Errorf("err = %v, want a plain error saying the answer is not an object", err)
	}
	c.question("t1")
	c.answer("t1", `{"ok": "yes"}`)
	if r := c.result("t1"); r.GetResult() != `{"ok":"yes"}` {
		t.Errorf("result = %v", r)
	}
}

func TestRequestInputChecksTheQuestionBeforeSendingIt(t *testing.T) {
	cases := []struct {
		message string
		schema  any
		want    string
	}{
		{"  ", goSchema, "message must be a non-empty string"},
		{"Go?", nil, "schema must be a JSON Schema object"},
		{"Go?", `[1]`, "schema must be a JSON Schema object"},
		{"Go?", `{"type": `, "schema must be a JSON Schema object"},
		{"Go?", []string{"a"}, "schema must be a JSON Schema object"},
		{"Go?", map[string]any{"bad": make(chan int)}, "schema does not encode as JSON"},
	}
	errs := make(chan error, len(cases))
	_, c := serve(t, worker.Options{}, tool("bad_questions", func(ctx context.Context, call *worker.Call) (any, error) {
		for _, tc := range cases {
			_, err := call.RequestInput(ctx, tc.message, tc.schema)
			errs <- err
		}
		return "done", nil
	}))

	c.invoke("t1", "bad_questions", map[string]any{})
	// The result comes first: no question was sent.
	c.result("t1")
	for _, tc := range cases {
		err := recv(t, errs, "a refusal")
		var refused *worker.InputRequestError
		if !errors.As(err, &refused) || refused.TaskID != "t1" || !strings.Contains(refused.Message, tc.want) {
			t.Errorf("RequestInput(%q, %#v) = %v, want an InputRequestError containing %q", tc.message, tc.schema, err, tc.want)
		}
	}

	// A Call built by hand has no server to ask.
	_, err := (&worker.Call{TaskID: "x"}).RequestInput(context.Background(), "Go?", goSchema)
	var refused *worker.InputRequestError
	if !errors.As(err, &refused) || !strings.Contains(refused.Message, "not made by a running Worker") {
		t.Errorf("RequestInput on a hand-built Call = %v", err)
	}
}

func TestCancellationWhileWaitingEndsRequestInputWithTheReason(t *testing.T) {
	errs := make(chan error, 1)
	_, c := serve(t, worker.Options{}, tool("wait_answer", func(ctx context.Context, call *worker.Call) (any, error) {
		_, err := call.RequestInput(ctx, "Go?", goSchema)
		errs <- err
		call.Progress(1, "after cancel")
		return "late result", nil
	}), tool("quick", nop))

	c.invoke("t1", "wait_answer", map[string]any{})
	c.question("t1")
	c.cancel("t1", pb.FailureReason_FAILURE_REASON_INPUT_TIMEOUT, "no answer within 900 s")
	err := recv(t, errs, "RequestInput to return")
	var ce *worker.CancelledError
	if !errors.As(err, &ce) || ce.Reason != pb.FailureReason_FAILURE_REASON_INPUT_TIMEOUT || ce.Message != "no answer within 900 s" {
		t.Fatalf("err = %v, want the INPUT_TIMEOUT CancelledError", err)
	}

	// An answer crossing the cancellation is dropped, and so is what the
	// handler did afterwards: the next messages are the pong and t2's result.
	c.answer("t1", `{"go": true}`)
	time.Sleep(50 * time.Millisecond)
	c.pong(1)
	c.invoke("t2", "quick", map[string]any{})
	c.result("t2")
}

func TestRequestInputGivesUpWhenItsContextEndsAndTheQuestionStaysOpen(t *testing.T) {
	errs := make(chan error, 2)
	proceed := make(chan struct{})
	_, c := serve(t, worker.Options{}, tool("impatient", func(ctx context.Context, call *worker.Call) (any, error) {
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := call.RequestInput(short, "First?", goSchema)
		errs <- err
		// The first question is still open on the server: not another one.
		_, err = call.RequestInput(ctx, "Too soon?", goSchema)
		errs <- err
		<-proceed
		answer, err := call.RequestInput(ctx, "Second?", goSchema)
		if err != nil {
			return nil, err
		}
		return answer, nil
	}))

	c.invoke("t1", "impatient", map[string]any{})
	c.question("t1")
	if err := recv(t, errs, "the first RequestInput to give up"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	err := recv(t, errs, "the second RequestInput")
	var refused *worker.InputRequestError
	if !errors.As(err, &refused) || !strings.Contains(refused.Message, "another question of this call is still waiting") {
		t.Fatalf("err = %v, want an InputRequestError for the open question", err)
	}
	// The late answer closes the first question (the pong proves the worker
	// has read it) and reaches nobody.
	c.answer("t1", `{"go": false, "which": "first"}`)
	c.pong(1)
	close(proceed)
	if q := c.question("t1"); q.GetMessage() != "Second?" {
		t.Fatalf("question = %v, want the second one", q)
	}
	c.answer("t1", `{"go": true, "which": "second"}`)
	if r := c.result("t1"); r.GetResult() != `{"go":true,"which":"second"}` {
		t.Errorf("result = %v, want the second answer", r)
	}
}

func TestRequestInputAfterTheHandlerReturnedIsRefused(t *testing.T) {
	calls := make(chan *worker.Call, 1)
	_, c := serve(t, worker.Options{}, tool("returns", func(ctx context.Context, call *worker.Call) (any, error) {
		calls <- call
		return "done", nil
	}))
	c.invoke("t1", "returns", map[string]any{})
	c.result("t1")
	call := recv(t, calls, "the call")
	_, err := call.RequestInput(context.Background(), "Too late?", goSchema)
	var refused *worker.InputRequestError
	if !errors.As(err, &refused) || !strings.Contains(refused.Message, "already returned") {
		t.Errorf("err = %v, want an InputRequestError saying the handler returned", err)
	}
	c.pong(1) // and nothing was sent
}

func TestALostConnectionEndsRequestInput(t *testing.T) {
	srv, conn := startServer(t)
	errs := make(chan error, 1)
	w := newWorker(t, worker.Options{}, tool("wait_answer", func(ctx context.Context, call *worker.Call) (any, error) {
		// context.Background: the invocation's own end still stops the wait.
		_, err := call.RequestInput(context.Background(), "Go?", goSchema)
		errs <- err
		return nil, err
	}))
	run(t, w, conn)
	first := srv.accept(t)
	first.register(&pb.WorkerRegistered{WorkerId: "w-1"})
	first.invoke("t1", "wait_answer", map[string]any{})
	first.question("t1")
	first.close(status.Error(codes.Unavailable, "gone"))
	if err := recv(t, errs, "RequestInput to return"); !errors.Is(err, worker.ErrConnectionLost) {
		t.Fatalf("err = %v, want ErrConnectionLost", err)
	}
	// The new connection knows nothing of the old question.
	second := srv.accept(t)
	second.register(&pb.WorkerRegistered{WorkerId: "w-2"})
	second.answer("t1", `{"go": true}`)
	second.pong(1)
}

func TestStopWhileWaitingForInputLeavesNoGoroutine(t *testing.T) {
	errs := make(chan error, 1)
	r, c := serve(t, worker.Options{}, tool("wait_answer", func(ctx context.Context, call *worker.Call) (any, error) {
		_, err := call.RequestInput(context.Background(), "Go?", goSchema)
		errs <- err
		return nil, err
	}))
	c.invoke("t1", "wait_answer", map[string]any{})
	c.question("t1")
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := recv(t, errs, "RequestInput to return"); !errors.Is(err, worker.ErrStopped) {
		t.Errorf("err = %v, want ErrStopped", err)
	}
	deadline := time.Now().Add(100 * time.Millisecond)
	for left := workerGoroutines(); len(left) > 0; left = workerGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the worker outlived Run:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
