package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// RequestInput asks a question and waits for the answer (input-required).
// The task waits in INPUT_REQUIRED, its question (message and schema) shown
// to whoever follows it, until someone answers with ProvideInput; then it
// runs again and RequestInput returns the answer: a JSON object the server
// has already checked against schema, decoded as json.Unmarshal decodes into
// a map (numbers are float64).
//
// schema is the JSON Schema of the answer and must be an object: a
// json.RawMessage, []byte or string is taken as its JSON text, anything else
// (a map, a struct) is encoded with json.Marshal.
//
// A call has one open question at a time. RequestInput returns:
//
//   - an *InputRequestError when the question cannot be asked: the server
//     refuses it (a schema it cannot compile, a NoBackground tool, ...),
//     message is blank, schema is not a JSON object, another question of
//     this call is still open, or the handler has already returned;
//   - the cause of the handler's context when the task ends while it waits:
//     a *CancelledError (FAILURE_REASON_CANCELLED when a user cancelled the
//     task, FAILURE_REASON_INPUT_TIMEOUT when no answer came within the
//     tool's InputTimeout, HARD_TIMEOUT, SHUTDOWN, ...), ErrConnectionLost or
//     ErrStopped;
//   - context.Cause(ctx) when ctx ends first. The protocol cannot withdraw a
//     question, so it stays open on the server (the task still waits) and
//     this call cannot ask another one until it is answered; the handler
//     usually returns then, which ends the task.
//
// Pass the handler's ctx, or one derived from it. Like Progress, it is safe
// to call from any goroutine.
func (c *Call) RequestInput(ctx context.Context, message string, schema any) (map[string]any, error) {
	refused := func(why string) error { return &InputRequestError{TaskID: c.TaskID, Message: why} }
	if c.ask == nil {
		return nil, refused("the Call was not made by a running Worker, so there is no server to ask")
	}
	if strings.TrimSpace(message) == "" {
		return nil, refused("message must be a non-empty string")
	}
	schemaJSON, err := encodeSchema(schema)
	if err != nil {
		return nil, refused(err.Error())
	}
	in, err := c.ask(ctx, message, schemaJSON)
	if err != nil {
		return nil, err
	}
	switch outcome := in.GetOutcome().(type) {
	case *pb.InvocationInput_Error:
		return nil, refused(outcome.Error)
	case *pb.InvocationInput_ResponseJson:
		var answer map[string]any
		if err := json.Unmarshal([]byte(outcome.ResponseJson), &answer); err != nil || answer == nil {
			return nil, fmt.Errorf("worker: the answer to the question of task %s is not a JSON object: %q", c.TaskID, outcome.ResponseJson)
		}
		return answer, nil
	}
	return nil, fmt.Errorf("worker: the server answered the question of task %s with neither an answer nor an error", c.TaskID)
}

// encodeSchema is an answer schema as compact JSON text, or why it is not a
// JSON object, so the mistake shows where it is made and not as the
// server's refusal.
func encodeSchema(schema any) (string, error) {
	var text []byte
	switch s := schema.(type) {
	case json.RawMessage:
		text = s
	case []byte:
		text = s
	case string:
		text = []byte(s)
	default:
		b, err := json.Marshal(schema)
		if err != nil {
			return "", fmt.Errorf("schema does not encode as JSON: %v", err)
		}
		text = b
	}
	var object map[string]any
	if err := json.Unmarshal(text, &object); err != nil || object == nil {
		return "", fmt.Errorf(`schema must be a JSON Schema object, like {"type": "object", "properties": {...}}, got %.100s`, text)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, text); err != nil {
		return "", fmt.Errorf("schema is not JSON: %v", err) // unreachable: it decoded
	}
	return compact.String(), nil
}
