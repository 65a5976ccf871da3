package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// Origin is who a call was made for, as the server's Execute received it.
type Origin struct {
	UserID    string
	ChannelID string
	Platform  string
}

// Call is one invocation as its handler sees it.
//
// A Call built by hand (in a handler's unit test, say) works too: its
// Progress and Output do nothing, and its RequestInput returns an
// *InputRequestError.
type Call struct {
	// TaskID is the server's task; progress and the result refer to it.
	TaskID   string
	ToolName string
	// Arguments is the arguments object as JSON, already validated by the
	// server against the tool's Parameters.
	Arguments json.RawMessage
	Origin    Origin
	// HardTimeout is how long the server waits for the result; 0 means it
	// gave none. The handler's context ends a little after it in any case.
	HardTimeout time.Duration
	// Traceparent and Tracestate are the W3C trace context of the Execute
	// call that started the task (both empty when the caller sent none). Pass
	// them on, or start a child span from them, so the tool's work joins the
	// caller's trace.
	Traceparent string
	Tracestate  string

	// report sends progress for this call; nil for a Call built by hand.
	report func(fraction float64, message string)
	// write queues output for this call; nil for a Call built by hand.
	write func(text string)
	// ask sends a question for this call and waits for the server's
	// InvocationInput; nil for a Call built by hand.
	ask func(ctx context.Context, message, schemaJSON string) (*pb.InvocationInput, error)
}

// Progress tells the server how far the call is: fraction from 0 to 1
// (clamped; NaN and infinities count as 0) and a short message.
//
// It only queues the update and returns at once, so a handler can report as
// often as it likes; an update not yet sent is replaced by a newer one
// (unless Output was written in between: the newer one then goes after that
// output), which keeps a fast reporter from piling up messages behind a slow
// connection.
// Updates are sent in order and all before the result; after the handler
// returned, or once its context is cancelled by the server, they are dropped.
// It is safe to call from any goroutine.
func (c *Call) Progress(fraction float64, message string) {
	if c.report != nil {
		c.report(clampFraction(fraction), message)
	}
}

// Output appends text to the task's output, which callers read
// (taskservice: Client.ReadOutput) or stream (Await with WithOutput,
// ExecuteStream) while the task runs and after it finished.
//
//	call.Output(fmt.Sprintf("step %d of %d done\n", i, n))
//
// Like Progress it only queues the text and returns at once; nothing is
// dropped or reordered, though: the task's output, progress, questions and
// result reach the server in the order the handler made them, so everything
// written before the handler returns is in the output before the result.
// Pieces written in quick succession may travel in one message. Empty text
// is ignored, invalid UTF-8 is replaced with U+FFFD, and text written after
// the handler returned, or once its context is cancelled by the server, is
// dropped. The server keeps at most TASKSERVICE_MAX_OUTPUT_BYTES of a task's
// output (a marker line ends it then; later writes are dropped). It is safe
// to call from any goroutine.
func (c *Call) Output(text string) {
	if c.write == nil || text == "" {
		return
	}
	c.write(strings.ToValidUTF8(text, "\uFFFD"))
}

// Decode unmarshals the arguments into v, as json.Unmarshal does.
func (c *Call) Decode(v any) error {
	if err := json.Unmarshal(c.Arguments, v); err != nil {
		return fmt.Errorf("invalid arguments for tool %s: %w", c.ToolName, err)
	}
	return nil
}

// clampFraction keeps a fraction in the range the protocol allows, so a
// handler's arithmetic slip (NaN from 0/0, an overshoot) cannot make the
// server reject the update.
func clampFraction(f float64) float64 {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0) || f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

// newCall is the handler's view of an invocation.
func newCall(in *pb.Invocation) *Call {
	args := in.GetArgumentsJson()
	if args == "" {
		args = "{}" // "no arguments" still decodes as an object
	}
	o := in.GetOrigin()
	return &Call{
		TaskID:      in.GetTaskId(),
		ToolName:    in.GetToolName(),
		Arguments:   json.RawMessage(args),
		Origin:      Origin{UserID: o.GetUserId(), ChannelID: o.GetChannelId(), Platform: o.GetPlatform()},
		HardTimeout: time.Duration(in.GetHardTimeoutSeconds() * float64(time.Second)),
		Traceparent: in.GetTraceparent(),
		Tracestate:  in.GetTracestate(),
	}
}
