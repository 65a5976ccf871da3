package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// invoke runs a handler and turns whatever it produced (value, error or
// panic) into the InvocationResult the server expects. A panic becomes an
// error result instead of killing the process, because one broken tool must
// not take down the other tools and their in-flight tasks. The stack is
// returned for the log.
func invoke(ctx context.Context, h HandlerFunc, call *Call) (res *pb.InvocationResult, stack []byte) {
	defer func() {
		if p := recover(); p != nil {
			stack = debug.Stack()
			res = failure(call.TaskID, fmt.Sprintf("tool %s panicked: %v", call.ToolName, p))
		}
	}()
	value, err := h(ctx, call)
	return outcome(call, value, err), nil
}

// outcome encodes a handler's return values as a result. The error wins over
// the value, since a handler that failed has no result to give.
func outcome(call *Call, value any, err error) *pb.InvocationResult {
	if err != nil {
		msg := err.Error()
		if msg == "" {
			msg = fmt.Sprintf("tool %s failed", call.ToolName)
		}
		return failure(call.TaskID, msg)
	}
	text, err := encodeValue(value)
	if err != nil {
		return failure(call.TaskID, fmt.Sprintf("tool %s returned a result that does not encode as JSON: %v", call.ToolName, err))
	}
	return &pb.InvocationResult{TaskId: call.TaskID, Outcome: &pb.InvocationResult_Result{Result: text}}
}

func failure(taskID, msg string) *pb.InvocationResult {
	return &pb.InvocationResult{TaskId: taskID, Outcome: &pb.InvocationResult_Error{Error: msg}}
}

// encodeValue is the result text: text and raw JSON pass through untouched so
// a tool controls its exact output; any other value is JSON, the format the
// server's callers parse.
func encodeValue(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case json.RawMessage:
		return string(v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
