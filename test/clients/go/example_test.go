package clients_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

// The example's user, and the figures the runs below pass it.
const (
	exampleUser   = "example-user"
	exampleSleep  = "1.5"
	exampleResult = "slept 1.5 s"
	exampleRunFor = 60 * time.Second
)

// TestInferenceLoopExample builds examples/go/inference_loop and runs it
// against real servers, reading its transcript as a user would.
func TestInferenceLoopExample(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "inference_loop")
	build := exec.Command("go", "build", "-o", bin, "./inference_loop")
	build.Dir = filepath.Join("..", "..", "..", "examples", "go")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in examples/go: %v\n%s", err, out)
	}

	t.Run("inline, backgrounded, check_task, awaited", func(t *testing.T) {
		out := runExample(t, bin, serverAddr)
		id := checkTranscript(t, out)

		// The transcript's task is the server's, finished with that result.
		snap, err := dialClient(t, "").Get(callCtx(t, rpcTimeout), id, taskservice.WithUser(exampleUser))
		if err != nil || snap.Task.Status != taskservice.StatusCompleted || snap.Text != exampleResult {
			t.Errorf("task %s on the server = %+v, %v", id, snap, err)
		}
	})

	t.Run("redirect_task delivers the result to a webhook", func(t *testing.T) {
		deliveries := make(chan webhookDelivery, 4)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var d webhookDelivery
			if r.URL.Path != "/hook" || json.Unmarshal(body, &d) != nil {
				t.Errorf("unexpected request %s %s: %q", r.Method, r.URL, body)
			}
			deliveries <- d
		}))
		defer receiver.Close()
		srv := startTestServer(t, `TASKSERVICE_PLATFORMS={"chat":{"kind":"webhook","url":"`+receiver.URL+`/hook"}}`)

		out := runExample(t, bin, srv.addr, "-redirect-platform", "chat", "-redirect-channel", "C1")
		id := checkTranscript(t, out)

		redirect := transcriptLine(t, out, `tool:\s+redirect_task \(inline\): (\{.*\})`)
		var answer struct {
			TaskID   string `json:"task_id"`
			Redirect struct {
				DeliveryState string `json:"delivery_state"`
			} `json:"redirect"`
		}
		if err := json.Unmarshal([]byte(redirect[1]), &answer); err != nil || answer.TaskID != id || answer.Redirect.DeliveryState != "pending" {
			t.Errorf("redirect_task answered %q (%v), want task %s pending", redirect[1], err, id)
		}
		transcriptLine(t, out, `service:\s+task `+regexp.QuoteMeta(id)+`: result delivered to chat channel C1`)

		select {
		case d := <-deliveries:
			if d.TaskID != id || d.Platform != "chat" || d.ChannelID != "C1" || d.ToolName != "sleep" || d.Status != "completed" ||
				!strings.HasPrefix(d.Text, "[sleep] task "+id+" completed:") || !strings.Contains(d.Text, exampleResult) {
				t.Errorf("delivery = %+v", d)
			}
		case <-time.After(rpcTimeout):
			t.Fatal("the webhook received nothing")
		}
		select {
		case d := <-deliveries:
			t.Errorf("a second delivery: %+v", d)
		case <-time.After(300 * time.Millisecond):
		}
	})
}

type webhookDelivery struct {
	Platform  string `json:"platform"`
	ChannelID string `json:"channel_id"`
	TaskID    string `json:"task_id"`
	ToolName  string `json:"tool_name"`
	Status    string `json:"status"`
	Text      string `json:"text"`
}

// runExample runs the built example against addr and returns its output; it
// must exit 0.
func runExample(t *testing.T, bin, addr string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exampleRunFor)
	defer cancel()
	args = append([]string{"-addr", addr, "-user", exampleUser, "-sleep", exampleSleep, "-budget", "300ms"}, args...)
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("inference_loop %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("transcript:\n%s", out)
	return string(out)
}

// checkTranscript checks the turns every run has and returns the id of the
// backgrounded task.
func checkTranscript(t *testing.T, out string) string {
	t.Helper()
	transcriptLine(t, out, `tool:\s+echo \(inline\): Hello! Starting the slow job now\.$`)

	// What the model reads for the slow call is the envelope naming the task.
	bg := transcriptLine(t, out, `tool:\s+sleep \(backgrounded as task ([A-Za-z0-9_-]+)\): (\{.*\})$`)
	id := bg[1]
	var envelope struct {
		TaskID  string `json:"task_id"`
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(bg[2]), &envelope); err != nil || envelope.TaskID != id || envelope.Status != "running" ||
		!strings.Contains(envelope.Message, "check_task") {
		t.Errorf("envelope %q (%v), want task %s running, pointing at check_task", bg[2], err, id)
	}

	// The model's next turn asks about that task by the id it read.
	transcriptLine(t, out, `assistant:\s+calls check_task \{"task_id":"`+regexp.QuoteMeta(id)+`"\}$`)
	check := transcriptLine(t, out, `tool:\s+check_task \(inline\): (\{.*\})$`)
	var status struct {
		TaskID string `json:"task_id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(check[1]), &status); err != nil || status.TaskID != id || status.Status != "running" {
		t.Errorf("check_task answered %q (%v), want task %s running", check[1], err, id)
	}

	transcriptLine(t, out, `service:\s+task `+regexp.QuoteMeta(id)+`: completed: `+regexp.QuoteMeta(exampleResult)+`$`)
	return id
}

// transcriptLine is the submatches of the first line matching pattern; the
// test fails when none does.
func transcriptLine(t *testing.T, out, pattern string) []string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for line := range strings.Lines(out) {
		if m := re.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			return m
		}
	}
	t.Fatalf("no transcript line matches %s", pattern)
	return nil
}
