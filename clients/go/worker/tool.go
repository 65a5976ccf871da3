package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/protobuf/proto"
)

// HandlerFunc runs one invocation. Its result is sent to the server as the
// task's result: a string as is, []byte and json.RawMessage as is, nil as "",
// anything else as its JSON encoding. A non-nil error fails the task with
// err.Error() as its message.
//
// ctx is cancelled when the result is no longer wanted (see CancelledError,
// ErrConnectionLost, ErrStopped); a handler must return soon after, because
// Run waits for every handler before it returns.
type HandlerFunc func(ctx context.Context, call *Call) (any, error)

// Tool describes a tool the worker hosts. Every worker hosting the same name
// must declare the same Parameters, NoBackground and limits: the server
// refuses a registration that disagrees with one it already has.
type Tool struct {
	// Name is what callers use: a lowercase letter, then at most 63 of
	// a-z, 0-9 and _.
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments object. The server
	// validates arguments against it before invoking the worker, so a
	// handler only sees valid arguments. Nil means any object.
	Parameters json.RawMessage
	// NoBackground makes callers always await the tool inline. Such a tool
	// cannot ask questions: nobody would see them while its caller waits, so
	// the server refuses Call.RequestInput.
	NoBackground bool
	// Concurrency caps invocations of this tool running at once on this
	// worker; 0 means no cap of its own.
	Concurrency int
	// Timeout is the budget when a call gives none; 0 means the server default.
	Timeout time.Duration
	// HardTimeout is the runtime limit; 0 means the server default. Time
	// spent waiting for an answer (Call.RequestInput) counts against it.
	HardTimeout time.Duration
	// InputTimeout is how long a question (Call.RequestInput) waits for its
	// answer before the task fails INPUT_TIMEOUT; 0 means the server default
	// (TASKSERVICE_INPUT_TIMEOUT_SECONDS, 1 h).
	InputTimeout time.Duration
	Handler      HandlerFunc
}

// Func builds a Tool whose handler receives its arguments already decoded
// into Args, so a handler does not repeat the decoding and its error. An
// argument object that does not decode into Args fails the task with the
// decoding error. The returned Tool can be adjusted (Concurrency, timeouts,
// ...) before Register.
func Func[Args any](name, description string, parameters json.RawMessage,
	fn func(ctx context.Context, call *Call, args Args) (any, error)) Tool {
	return Tool{
		Name:        name,
		Description: description,
		Parameters:  parameters,
		Handler: func(ctx context.Context, call *Call) (any, error) {
			var args Args
			if err := call.Decode(&args); err != nil {
				return nil, err
			}
			return fn(ctx, call, args)
		},
	}
}

// toolName is the server's rule; checking it here turns a rejected
// registration at connect time into an error at Register.
var toolName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// anyObject is the schema sent when a tool declares none.
var anyObject = json.RawMessage(`{"type":"object"}`)

// validate reports the first thing the server would refuse, naming the tool
// and the field so the message says what to fix.
func (t *Tool) validate() error {
	if !toolName.MatchString(t.Name) {
		return fmt.Errorf("worker: tool name %q is invalid: it must start with a lowercase letter, "+
			"contain only a-z, 0-9 and _, and be at most 64 characters long", t.Name)
	}
	if t.Handler == nil {
		return fmt.Errorf("worker: tool %q has no Handler", t.Name)
	}
	if t.Parameters != nil {
		var schema map[string]any
		if err := json.Unmarshal(t.Parameters, &schema); err != nil {
			return fmt.Errorf("worker: tool %q: Parameters is not a JSON object: %w", t.Name, err)
		}
		if schema == nil {
			return fmt.Errorf("worker: tool %q: Parameters is not a JSON object: %s", t.Name, t.Parameters)
		}
	}
	if t.Concurrency < 0 || t.Concurrency > math.MaxInt32 {
		return fmt.Errorf("worker: tool %q: Concurrency must be from 0 (no limit) to 2147483647, got %d", t.Name, t.Concurrency)
	}
	if t.Timeout < 0 {
		return fmt.Errorf("worker: tool %q: Timeout must be 0 (server default) or more, got %v", t.Name, t.Timeout)
	}
	if t.HardTimeout < 0 {
		return fmt.Errorf("worker: tool %q: HardTimeout must be 0 (server default) or more, got %v", t.Name, t.HardTimeout)
	}
	if t.InputTimeout < 0 {
		return fmt.Errorf("worker: tool %q: InputTimeout must be 0 (server default) or more, got %v", t.Name, t.InputTimeout)
	}
	return nil
}

// proto is the tool as RegisterWorker declares it.
func (t *Tool) proto() *pb.WorkerTool {
	schema := t.Parameters
	if schema == nil {
		schema = anyObject
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, schema); err == nil {
		schema = compact.Bytes()
	}
	wt := &pb.WorkerTool{
		Name:                 t.Name,
		Description:          t.Description,
		ParametersJsonSchema: string(schema),
		NoBackground:         t.NoBackground,
		Concurrency:          int32(t.Concurrency),
	}
	if t.Timeout > 0 {
		wt.DefaultTimeoutSeconds = proto.Float64(t.Timeout.Seconds())
	}
	if t.HardTimeout > 0 {
		wt.HardTimeoutSeconds = proto.Float64(t.HardTimeout.Seconds())
	}
	if t.InputTimeout > 0 {
		wt.InputTimeoutSeconds = proto.Float64(t.InputTimeout.Seconds())
	}
	return wt
}
