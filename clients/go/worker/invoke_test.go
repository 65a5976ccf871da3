package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/worker"
)

func TestHandlerReturnsBecomeResults(t *testing.T) {
	returns := func(v any, err error) worker.HandlerFunc {
		return func(context.Context, *worker.Call) (any, error) { return v, err }
	}
	cases := []struct {
		tool    worker.Tool
		result  string // wanted Result, when wantErr is ""
		wantErr string // wanted Error (a prefix)
	}{
		{tool("text", returns("plain text", nil)), "plain text", ""},
		{tool("json_value", returns(map[string]any{"n": 1, "s": "x"}, nil)), `{"n":1,"s":"x"}`, ""},
		{tool("json_struct", returns(struct {
			Words int `json:"words"`
		}{3}, nil)), `{"words":3}`, ""},
		{tool("bytes", returns([]byte("raw bytes"), nil)), "raw bytes", ""},
		{tool("raw_json", returns(json.RawMessage(`{"kept": true}`), nil)), `{"kept": true}`, ""},
		{tool("nothing", returns(nil, nil)), "", ""},
		{tool("number", returns(42, nil)), "42", ""},
		{tool("failure", returns("ignored", errors.New("disk full"))), "", "disk full"},
		{tool("empty_error", returns(nil, errors.New(""))), "", "tool empty_error failed"},
		{tool("unencodable", returns(make(chan int), nil)), "", "tool unencodable returned a result that does not encode as JSON"},
		{tool("panics", func(context.Context, *worker.Call) (any, error) { panic("boom") }), "", "tool panics panicked: boom"},
	}
	var tools []worker.Tool
	for _, c := range cases {
		tools = append(tools, c.tool)
	}
	_, c := serve(t, worker.Options{}, tools...)

	for i, tc := range cases {
		taskID := "t" + string(rune('a'+i))
		c.invoke(taskID, tc.tool.Name, map[string]any{})
		r := c.result(taskID)
		if tc.wantErr != "" {
			if _, ok := r.GetOutcome().(*pb.InvocationResult_Error); !ok || !strings.HasPrefix(r.GetError(), tc.wantErr) {
				t.Errorf("%s: result %v, want error %q", tc.tool.Name, r, tc.wantErr)
			}
			continue
		}
		if _, ok := r.GetOutcome().(*pb.InvocationResult_Result); !ok || r.GetResult() != tc.result {
			t.Errorf("%s: result %v, want %q", tc.tool.Name, r, tc.result)
		}
	}
}

func TestCallCarriesTheInvocation(t *testing.T) {
	type echoArgs struct {
		Text  string `json:"text"`
		Times int    `json:"times"`
	}
	calls := make(chan *worker.Call, 1)
	echo := worker.Func("echo", "repeats text", nil, func(ctx context.Context, call *worker.Call, args echoArgs) (any, error) {
		calls <- call
		return strings.Repeat(args.Text, args.Times), nil
	})
	_, c := serve(t, worker.Options{}, echo)

	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Invocation{Invocation: &pb.Invocation{
		TaskId: "t1", ToolName: "echo", ArgumentsJson: `{"text":"ab","times":3}`,
		Origin:             &pb.InvocationOrigin{UserId: "u1", ChannelId: "c1", Platform: "slack"},
		HardTimeoutSeconds: 90,
	}}})
	if r := c.result("t1"); r.GetResult() != "ababab" {
		t.Errorf("result = %v, want ababab", r)
	}
	call := recv(t, calls, "the call")
	want := worker.Origin{UserID: "u1", ChannelID: "c1", Platform: "slack"}
	if call.TaskID != "t1" || call.ToolName != "echo" || string(call.Arguments) != `{"text":"ab","times":3}` ||
		call.Origin != want || call.HardTimeout != 90*time.Second {
		t.Errorf("call = %+v", call)
	}

	// Arguments that do not fit Args fail the task with the decoding error.
	c.invoke("t2", "echo", map[string]any{"text": 1})
	if r := c.result("t2"); !strings.HasPrefix(r.GetError(), "invalid arguments for tool echo: ") {
		t.Errorf("result = %v, want an invalid-arguments error", r)
	}

	// No arguments at all decode as an empty object.
	c.invoke("t3", "echo", nil)
	if r := c.result("t3"); r.GetResult() != "" || r.GetError() != "" {
		t.Errorf("result = %v, want an empty result", r)
	}
}

func TestCallCarriesTheTraceContextOfTheExecuteCall(t *testing.T) {
	const (
		traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		tracestate  = "vendor=opaque,other=1"
	)
	calls := make(chan *worker.Call, 2)
	_, c := serve(t, worker.Options{}, tool("traced", func(ctx context.Context, call *worker.Call) (any, error) {
		calls <- call
		return nil, nil
	}))

	c.send(&pb.ConnectResponse{Message: &pb.ConnectResponse_Invocation{Invocation: &pb.Invocation{
		TaskId: "t1", ToolName: "traced", ArgumentsJson: "{}", Traceparent: traceparent, Tracestate: tracestate,
	}}})
	c.result("t1")
	if call := recv(t, calls, "the traced call"); call.Traceparent != traceparent || call.Tracestate != tracestate {
		t.Errorf("trace context = (%q, %q), want (%q, %q)", call.Traceparent, call.Tracestate, traceparent, tracestate)
	}

	// A call whose caller sent no trace context has none.
	c.invoke("t2", "traced", nil)
	c.result("t2")
	if call := recv(t, calls, "the untraced call"); call.Traceparent != "" || call.Tracestate != "" {
		t.Errorf("trace context = (%q, %q), want none", call.Traceparent, call.Tracestate)
	}
}

func TestProgressArrivesInOrderBeforeTheResult(t *testing.T) {
	type update struct {
		fraction float64
		message  string
	}
	reports := []update{{0.25, "a"}, {-1, "negative"}, {math.NaN(), "nan"}, {math.Inf(1), "inf"}, {2, "over"}, {1, "done"}}
	want := []update{{0.25, "a"}, {0, "negative"}, {0, "nan"}, {0, "inf"}, {1, "over"}, {1, "done"}}
	ack := make(chan struct{})
	calls := make(chan *worker.Call, 1)
	_, c := serve(t, worker.Options{}, tool("steps", func(ctx context.Context, call *worker.Call) (any, error) {
		for _, u := range reports {
			call.Progress(u.fraction, u.message)
			// One update at a time, so none is coalesced with the next.
			select {
			case <-ack:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		calls <- call
		return "finished", nil
	}))

	c.invoke("t1", "steps", map[string]any{})
	for _, w := range want {
		p := c.next().GetProgress()
		if p == nil || p.GetTaskId() != "t1" || p.GetFraction() != w.fraction || p.GetMessage() != w.message {
			t.Fatalf("progress = %v, want %v", p, w)
		}
		ack <- struct{}{}
	}
	if r := c.result("t1"); r.GetResult() != "finished" {
		t.Fatalf("result = %v", r)
	}

	// Progress after the result is dropped.
	recv(t, calls, "the call").Progress(0.5, "too late")
	c.pong(1)
}

func TestUnknownToolIsAnsweredWithAnError(t *testing.T) {
	_, c := serve(t, worker.Options{Name: "w"}, tool("known", nop))
	c.invoke("t1", "unknown", map[string]any{})
	if r := c.result("t1"); r.GetError() != `worker "w" has no tool "unknown"` {
		t.Errorf("result = %v", r)
	}
}

func TestHandWrittenCallIgnoresProgress(t *testing.T) {
	call := &worker.Call{ToolName: "x", Arguments: json.RawMessage(`{"a":1}`)}
	call.Progress(0.5, "nobody listens") // must not panic
	var args struct{ A int }
	if err := call.Decode(&args); err != nil || args.A != 1 {
		t.Errorf("Decode = %v, %+v", err, args)
	}
}
