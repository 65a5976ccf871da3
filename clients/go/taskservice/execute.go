package taskservice

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/grpc"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// Execution is what Execute answers: the tool's outcome when it settled
// inside the budget (inline), or a handle on the task that goes on in the
// background.
type Execution struct {
	// Backgrounded is true when the budget ran out first, or the tool asked
	// a question (Task.Status is then StatusInputRequired): the tool goes on
	// as a tracked task; follow it with Handle.
	Backgrounded bool
	// Text is what the model should read as the tool's result: the inline
	// result, "Error: <message>" for an inline failure, or, when
	// backgrounded, the JSON envelope with the task_id that tells the model
	// to call check_task.
	Text string
	// Task is the settled task (inline) or the running one (backgrounded).
	Task *Task
	// Handle follows the task. It is set whenever the server stored the
	// task: always when Backgrounded, and for inline calls with a request
	// id. It is nil for other inline calls, which leave nothing to look up.
	Handle *Handle
}

// Err is a *TaskFailedError when the call settled inline as FAILED (the tool
// threw), else nil. A failing tool is not an RPC error: Execute itself
// succeeds, and Text holds "Error: <message>" for the model.
func (e *Execution) Err() error {
	if e.Backgrounded {
		return nil
	}
	return e.Task.Err()
}

// Execute runs a tool. args are the tool's arguments: a json.RawMessage,
// []byte or string is sent as is (the JSON text of one object, as a model
// produces it), nil means {}, and anything else is encoded with
// json.Marshal.
//
// It returns an error only when the call itself failed: ErrNotFound for an
// unknown tool, ErrInvalidArgument for arguments the tool's schema refuses,
// and so on. It is retried on UNAVAILABLE only with WithRequestID, because
// only then does a retry not run the tool twice.
func (c *Client) Execute(ctx context.Context, tool string, args any, opts ...ExecOption) (*Execution, error) {
	argsJSON, err := argumentsJSON(args)
	if err != nil {
		return nil, fmt.Errorf("taskservice: arguments for %s: %w", tool, err)
	}
	return c.execute(ctx, executeRequest(tool, argsJSON, opts))
}

func executeRequest(tool, argsJSON string, opts []ExecOption) *pb.ExecuteRequest {
	req := &pb.ExecuteRequest{ToolName: tool, ArgumentsJson: argsJSON}
	for _, o := range opts {
		o.applyExec(req)
	}
	return req
}

func (c *Client) execute(ctx context.Context, req *pb.ExecuteRequest) (*Execution, error) {
	resp, err := unary(ctx, c, req.GetRequestId() != "", func(ctx context.Context, o ...grpc.CallOption) (*pb.ExecuteResponse, error) {
		return c.rpc.Execute(ctx, req, o...)
	})
	if err != nil {
		return nil, err
	}
	return c.execution(resp, req.GetUserId()), nil
}

// execution is Execute's answer as an Execution.
func (c *Client) execution(resp *pb.ExecuteResponse, user string) *Execution {
	e := &Execution{Backgrounded: resp.GetBackgrounded(), Text: resp.GetText(), Task: taskFromPb(resp.GetTask())}
	if e.Task != nil && e.Task.ID != "" {
		e.Handle = c.Handle(e.Task.ID, WithUser(user))
	}
	return e
}

func argumentsJSON(args any) (string, error) {
	switch a := args.(type) {
	case nil:
		return "", nil
	case json.RawMessage:
		return string(a), nil
	case []byte:
		return string(a), nil
	case string:
		return a, nil
	}
	b, err := json.Marshal(args)
	return string(b), err
}
