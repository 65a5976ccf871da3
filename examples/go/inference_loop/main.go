// Command inference_loop is an LLM inference loop that routes every tool
// call of the model through TaskService, with a scripted stand-in for the
// model so that it runs offline and prints the same transcript every time.
//
// The model first makes a fast call (answered inline), then a slow one: its
// budget runs out, so the tool goes on in the background and the model reads
// the JSON envelope with the task_id as the tool's result. On a later turn
// the model asks about that task with the check_task meta tool and, when
// -redirect-platform and -redirect-channel are given, has its result
// delivered to a chat channel with redirect_task. After the model's last
// turn, the service awaits the background task and prints its progress and
// result.
//
//	cd examples/go && go run ./inference_loop -addr 127.0.0.1:50051
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

type options struct {
	addr, token, user string
	budget            time.Duration
	sleep             float64
	redirect          taskservice.Target
	wait              time.Duration
	deliveryWait      time.Duration
	runID             string
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:50051", "TaskService address")
	flag.StringVar(&o.token, "token", os.Getenv("TASKSERVICE_TOKEN"), "bearer token, if the server wants one (default $TASKSERVICE_TOKEN)")
	flag.StringVar(&o.user, "user", "example-user", "the user the model acts for")
	flag.DurationVar(&o.budget, "budget", time.Second, "how long a tool call may take before it is backgrounded")
	flag.Float64Var(&o.sleep, "sleep", 3, "seconds the slow tool call takes")
	flag.StringVar(&o.redirect.Platform, "redirect-platform", "", "a platform configured on the server; with -redirect-channel, the model redirects the slow call's result there")
	flag.StringVar(&o.redirect.ChannelID, "redirect-channel", "", "the channel to deliver the slow call's result to")
	flag.DurationVar(&o.wait, "wait", 5*time.Minute, "how long to wait for the background task at most")
	flag.Parse()
	if (o.redirect.Platform == "") != (o.redirect.ChannelID == "") {
		log.Fatal("-redirect-platform and -redirect-channel go together")
	}
	o.deliveryWait = 10 * time.Second
	// Tool-call ids differ on every run, so the server's de-duplication by
	// request id never returns an earlier run's task.
	o.runID = strconv.FormatInt(time.Now().UnixNano(), 36)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, o options) error {
	var opts []taskservice.Option
	if o.token != "" {
		opts = append(opts, taskservice.WithToken(o.token))
	}
	client, err := taskservice.Dial(o.addr, opts...)
	if err != nil {
		return err
	}
	defer client.Close()

	t := transcript{started: time.Now()}
	model := &scriptedModel{sleepSeconds: o.sleep, redirect: o.redirect}
	history := []message{{role: "user", text: "Say hello, then run the slow job and tell me how it is going."}}
	t.say("user", history[0].text)

	// The inference loop: ask the model, run the tools it calls, hand the
	// results back, until it answers without calling a tool.
	var background []*taskservice.Handle
	for turn := 1; ; turn++ {
		calls, answer := model.next(history)
		if len(calls) == 0 {
			t.say("assistant", answer)
			history = append(history, message{role: "assistant", text: answer})
			break
		}
		history = append(history, message{role: "assistant", calls: calls})
		for i := range calls {
			call := &calls[i]
			call.id = fmt.Sprintf("call-%s-%d-%d", o.runID, turn, i)
			t.say("assistant", fmt.Sprintf("calls %s %s", call.name, call.args))
			result, handle, err := runTool(ctx, client, o, *call)
			if err != nil {
				return err
			}
			how := "inline"
			if handle != nil {
				background = append(background, handle)
				how = "backgrounded as task " + handle.ID()
			}
			t.say("tool", fmt.Sprintf("%s (%s): %s", call.name, how, result))
			history = append(history, message{role: "tool", callID: call.id, text: result})
		}
	}

	// The model has answered; the service follows what is still running.
	for _, h := range background {
		if err := follow(ctx, client, h, o, &t); err != nil {
			return err
		}
	}
	return nil
}

// runTool runs one tool call through Execute and returns the text the model
// reads as its result, and a handle when the call was backgrounded. Errors
// of the call itself (an unknown tool, arguments the schema refuses) are
// results too, so that the model can correct itself; only an unreachable
// server stops the loop.
func runTool(ctx context.Context, client *taskservice.Client, o options, call toolCall) (string, *taskservice.Handle, error) {
	exec, err := client.Execute(ctx, call.name, call.args,
		taskservice.WithUser(o.user),
		// The model's tool-call id: a retry after a lost answer returns the
		// same task rather than running the tool twice (and it lets the
		// client retry Execute on UNAVAILABLE).
		taskservice.WithRequestID(call.id),
		taskservice.WithBudget(o.budget))
	var e *taskservice.Error
	switch {
	case errors.Is(err, taskservice.ErrUnavailable), errors.Is(err, taskservice.ErrUnauthenticated), errors.Is(err, context.Canceled):
		return "", nil, err
	case errors.As(err, &e):
		return "Error: " + e.Message, nil, nil
	case err != nil:
		return "", nil, err
	case exec.Backgrounded:
		return exec.Text, exec.Handle, nil
	}
	return exec.Text, nil, nil
}

// follow awaits a background task, printing its progress and outcome, and
// then where its redirect stands.
func follow(ctx context.Context, client *taskservice.Client, h *taskservice.Handle, o options, t *transcript) error {
	ctx, cancel := context.WithTimeout(ctx, o.wait)
	defer cancel()
	t.say("service", "awaiting task "+h.ID())
	var last taskservice.Update
	for u, err := range h.Await(ctx) {
		if err != nil {
			return fmt.Errorf("awaiting task %s: %w", h.ID(), err)
		}
		last = u
		switch u.Kind {
		case taskservice.UpdateSnapshot, taskservice.UpdateProgress:
			if p := u.Task.Progress; p != nil {
				t.say("service", fmt.Sprintf("task %s: %3.0f%% %s", h.ID(), 100*p.Fraction, p.Message))
			} else {
				t.say("service", fmt.Sprintf("task %s: running", h.ID()))
			}
		case taskservice.UpdateHeartbeat:
			t.say("service", fmt.Sprintf("task %s: still running", h.ID()))
		}
	}
	switch {
	case last.Kind == taskservice.UpdateWaitTimedOut:
		return fmt.Errorf("task %s still running after %s", h.ID(), o.wait)
	case last.Task.Status == taskservice.StatusCompleted:
		t.say("service", fmt.Sprintf("task %s: completed: %s", h.ID(), last.Text))
	default:
		t.say("service", fmt.Sprintf("task %s: failed: %v", h.ID(), last.Task.Err()))
	}
	if last.Task.Redirect != nil {
		return reportDelivery(ctx, h, o.deliveryWait, t)
	}
	return nil
}

// reportDelivery waits a little for the redirect to settle and says how it
// went. Delivery starts when the task finishes and goes on after that in the
// server, with retries; waiting for it is only for the transcript.
func reportDelivery(ctx context.Context, h *taskservice.Handle, limit time.Duration, t *transcript) error {
	deadline := time.Now().Add(limit)
	for {
		snap, err := h.Get(ctx)
		if err != nil {
			return err
		}
		r := snap.Task.Redirect
		settled := r.State == taskservice.DeliveryDelivered || r.State == taskservice.DeliveryFailed
		if settled || time.Now().After(deadline) {
			state := strings.ToLower(strings.TrimPrefix(r.State.String(), "DELIVERY_STATE_"))
			line := fmt.Sprintf("task %s: result %s to %s channel %s", h.ID(), state, r.Platform, r.ChannelID)
			if r.LastError != "" {
				line += " (" + r.LastError + ")"
			}
			t.say("service", line)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type toolCall struct {
	id   string // the model's tool-call id
	name string
	args json.RawMessage
}

type message struct {
	role   string // "user", "assistant" or "tool"
	text   string
	calls  []toolCall // an assistant's tool calls
	callID string     // the call a tool message answers
}

// scriptedModel stands in for an LLM. Like one, it sees only the
// conversation: it learns the background task's id by reading the envelope
// that came back as the slow call's result.
type scriptedModel struct {
	sleepSeconds float64
	redirect     taskservice.Target
}

func (m *scriptedModel) next(history []message) ([]toolCall, string) {
	turns := 0
	for _, msg := range history {
		if msg.role == "assistant" {
			turns++
		}
	}
	taskID := backgroundTaskID(history)
	switch {
	case turns == 0:
		return calls("echo", map[string]any{"text": "Hello! Starting the slow job now."}), ""
	case turns == 1:
		return calls("sleep", map[string]any{"seconds": m.sleepSeconds}), ""
	case taskID == "":
		return nil, "The slow job finished right away: " + history[len(history)-1].text
	case turns == 2:
		return calls("check_task", map[string]any{"task_id": taskID}), ""
	case turns == 3 && m.redirect.Platform != "":
		return calls("redirect_task", map[string]any{"task_id": taskID, "platform": m.redirect.Platform, "channel_id": m.redirect.ChannelID}), ""
	case m.redirect.Platform != "":
		if last := history[len(history)-1].text; strings.HasPrefix(last, "Error: ") {
			return nil, fmt.Sprintf("The slow job is running as task %s, but I could not have its result posted: %s", taskID, strings.TrimPrefix(last, "Error: "))
		}
		return nil, fmt.Sprintf("The slow job is running as task %s; its result will be posted to %s channel %s.", taskID, m.redirect.Platform, m.redirect.ChannelID)
	}
	return nil, fmt.Sprintf("The slow job is running as task %s; I will tell you its result when it finishes.", taskID)
}

func calls(name string, args map[string]any) []toolCall {
	b, err := json.Marshal(args)
	if err != nil {
		panic(err) // the script's own arguments always encode
	}
	return []toolCall{{name: name, args: b}}
}

// backgroundTaskID is the task_id of the first envelope among the tool
// results: {"task_id": "...", "status": "running", ...}.
func backgroundTaskID(history []message) string {
	for _, msg := range history {
		var envelope struct {
			TaskID string `json:"task_id"`
			Status string `json:"status"`
		}
		if msg.role == "tool" && json.Unmarshal([]byte(msg.text), &envelope) == nil && envelope.Status == "running" {
			return envelope.TaskID
		}
	}
	return ""
}

// transcript prints who said what, and when.
type transcript struct{ started time.Time }

func (t *transcript) say(who, text string) {
	fmt.Printf("[%5.2fs] %-10s %s\n", time.Since(t.started).Seconds(), who+":", text)
}
