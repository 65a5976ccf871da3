package clients_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

// These tests drive the real server through the Go client package
// (clients/go/taskservice), as an inference service would.

const backgroundBudget = 200 * time.Millisecond

// dialClient is a client of the shared server (or of addr, when given),
// closed when the test ends.
func dialClient(t *testing.T, addr string, opts ...taskservice.Option) *taskservice.Client {
	t.Helper()
	if addr == "" {
		addr = serverAddr
	}
	c, err := taskservice.Dial(addr, opts...)
	if err != nil {
		t.Fatalf("Dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// backgroundSleep starts a sleep that outlasts its budget and returns its
// execution, cancelling the task when the test ends if it still runs.
func backgroundSleep(t *testing.T, c *taskservice.Client, user string, seconds float64) *taskservice.Execution {
	t.Helper()
	exec, err := c.Execute(callCtx(t, rpcTimeout), "sleep", map[string]any{"seconds": seconds},
		taskservice.WithUser(user), taskservice.WithBudget(backgroundBudget))
	if err != nil {
		t.Fatalf("Execute sleep %vs: %v", seconds, err)
	}
	if !exec.Backgrounded || exec.Handle == nil {
		t.Fatalf("sleep %vs with a %s budget was not backgrounded: %+v", seconds, backgroundBudget, exec)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
		defer cancel()
		_, _ = exec.Handle.Cancel(ctx)
	})
	return exec
}

func TestClientEchoAnswersInlineWithoutAHandle(t *testing.T) {
	c := dialClient(t, "")
	text := "inline " + newUserID(t)

	exec, err := c.Execute(callCtx(t, rpcTimeout), "echo", map[string]string{"text": text}, taskservice.WithUser(newUserID(t)))
	if err != nil {
		t.Fatalf("Execute echo: %v", err)
	}
	if exec.Backgrounded || exec.Text != text || exec.Task.Status != taskservice.StatusCompleted || exec.Task.Result != text {
		t.Errorf("execution = %+v, task %+v; want inline %q", exec, exec.Task, text)
	}
	// The inline fast path stores nothing, so there is nothing to follow.
	if exec.Handle != nil || exec.Err() != nil {
		t.Errorf("handle = %v, Err = %v; want none", exec.Handle, exec.Err())
	}
}

func TestClientFailingToolIsAnInlineTaskFailedErrorNotACallError(t *testing.T) {
	c := dialClient(t, "")
	exec, err := c.Execute(callCtx(t, rpcTimeout), "fail", map[string]string{"message": "on purpose"})
	if err != nil {
		t.Fatalf("Execute fail: %v", err)
	}
	var failed *taskservice.TaskFailedError
	if !errors.As(exec.Err(), &failed) || failed.Reason != taskservice.ReasonToolError || failed.Message != "on purpose" {
		t.Errorf("Err() = %v, want a TOOL_ERROR TaskFailedError", exec.Err())
	}
	if exec.Text != "Error: on purpose" {
		t.Errorf("text = %q, want %q", exec.Text, "Error: on purpose")
	}
}

func TestClientBackgroundedSleepAwaitsProgressToTheTerminalUpdate(t *testing.T) {
	c := dialClient(t, "")
	user := newUserID(t)
	exec := backgroundSleep(t, c, user, 1.5)

	var envelope struct {
		TaskID   string `json:"task_id"`
		Status   string `json:"status"`
		ToolName string `json:"tool_name"`
	}
	if err := json.Unmarshal([]byte(exec.Text), &envelope); err != nil || envelope.TaskID != exec.Handle.ID() ||
		envelope.Status != "running" || envelope.ToolName != "sleep" {
		t.Errorf("envelope %q (%v), want the running sleep task %s", exec.Text, err, exec.Handle.ID())
	}
	if exec.Task.Status != taskservice.StatusRunning || exec.Task.UserID != user || exec.Handle.User() != user {
		t.Errorf("task = %+v, handle user %q", exec.Task, exec.Handle.User())
	}

	var updates []taskservice.Update
	for u, err := range exec.Handle.Await(callCtx(t, 30*time.Second)) {
		if err != nil {
			t.Fatalf("Await after %d updates: %v", len(updates), err)
		}
		updates = append(updates, u)
	}
	if len(updates) < 3 {
		t.Fatalf("%d updates, want a snapshot, progress and the terminal one", len(updates))
	}
	if updates[0].Kind != taskservice.UpdateSnapshot {
		t.Errorf("first update %s, want SNAPSHOT", updates[0].Kind)
	}
	sawProgress := false
	for i, u := range updates[:len(updates)-1] {
		if u.Final() || u.Sequence != uint64(i+1) || u.Task.ID != exec.Handle.ID() {
			t.Errorf("update %d = kind %s seq %d task %s", i, u.Kind, u.Sequence, u.Task.ID)
		}
		if u.Kind == taskservice.UpdateProgress && u.Task.Progress != nil && u.Task.Progress.Fraction > 0 {
			sawProgress = true
		}
	}
	if !sawProgress {
		t.Error("no progress update with a fraction before the end")
	}
	last := updates[len(updates)-1]
	if last.Kind != taskservice.UpdateTerminal || last.Task.Status != taskservice.StatusCompleted || last.Text != "slept 1.5 s" ||
		last.Task.FinishedAt.IsZero() {
		t.Errorf("last update = %s %+v %q", last.Kind, last.Task, last.Text)
	}
}

func TestClientWaitReturnsTheCompletedTask(t *testing.T) {
	c := dialClient(t, "")
	exec := backgroundSleep(t, c, newUserID(t), 1)

	task, err := exec.Handle.Wait(callCtx(t, 30*time.Second))
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if task.Status != taskservice.StatusCompleted || task.Result != "slept 1 s" || task.ID != exec.Handle.ID() {
		t.Errorf("task = %+v", task)
	}
	snap, err := c.Get(callCtx(t, rpcTimeout), task.ID)
	if err != nil || snap.Text != "slept 1 s" {
		t.Errorf("Get after Wait = %+v, %v", snap, err)
	}
}

func TestClientCancelEndsTheTaskFailedCancelledAndWaitSaysWhy(t *testing.T) {
	c := dialClient(t, "")
	exec := backgroundSleep(t, c, newUserID(t), 30)

	task, err := exec.Handle.Cancel(callCtx(t, rpcTimeout))
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if task.Status != taskservice.StatusFailed || task.Reason != taskservice.ReasonCancelled {
		t.Errorf("cancelled task = %s %s", task.Status, task.Reason)
	}
	// Cancelling again is a no-op, which is what makes Cancel safe to retry.
	if _, err := exec.Handle.Cancel(callCtx(t, rpcTimeout)); err != nil {
		t.Errorf("second Cancel: %v", err)
	}

	task, err = exec.Handle.Wait(callCtx(t, rpcTimeout))
	var failed *taskservice.TaskFailedError
	if !errors.As(err, &failed) || failed.Reason != taskservice.ReasonCancelled || failed.TaskID != exec.Handle.ID() {
		t.Errorf("Wait err = %v, want a CANCELLED TaskFailedError", err)
	}
	if task == nil || task.Status != taskservice.StatusFailed {
		t.Errorf("Wait task = %+v, want the failed task", task)
	}
}

func TestClientCancellingACompletedTaskIsFailedPrecondition(t *testing.T) {
	c := dialClient(t, "")
	exec := backgroundSleep(t, c, newUserID(t), 0.5)
	if _, err := exec.Handle.Wait(callCtx(t, rpcTimeout)); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if _, err := exec.Handle.Cancel(callCtx(t, rpcTimeout)); !errors.Is(err, taskservice.ErrFailedPrecondition) {
		t.Errorf("Cancel of a completed task: %v, want ErrFailedPrecondition", err)
	}
}

func TestClientExecuteWithARequestIDReturnsTheSameTaskAgain(t *testing.T) {
	// What makes retrying such an Execute safe: the server runs the tool once.
	c := dialClient(t, "")
	user := newUserID(t)
	requestID := "call-" + newUserID(t)[3:]
	run := func(budget time.Duration) *taskservice.Execution {
		t.Helper()
		exec, err := c.Execute(callCtx(t, rpcTimeout), "sleep", map[string]any{"seconds": 1},
			taskservice.WithUser(user), taskservice.WithRequestID(requestID), taskservice.WithBudget(budget))
		if err != nil {
			t.Fatalf("Execute with request id %s: %v", requestID, err)
		}
		return exec
	}

	first := run(backgroundBudget)
	again := run(backgroundBudget)
	if !first.Backgrounded || !again.Backgrounded || again.Handle.ID() != first.Handle.ID() || again.Task.RequestID != requestID {
		t.Errorf("first %s (backgrounded %v), again %s (backgrounded %v, request id %q): want the same running task",
			first.Task.ID, first.Backgrounded, again.Task.ID, again.Backgrounded, again.Task.RequestID)
	}
	// A retry with a longer budget waits for that same task's outcome.
	settled := run(5 * time.Second)
	if settled.Backgrounded || settled.Task.ID != first.Task.ID || settled.Text != "slept 1 s" {
		t.Errorf("third call = %+v, want task %s settled inline", settled, first.Task.ID)
	}
}

func TestClientUnknownTasksAndToolsAreNotFound(t *testing.T) {
	c := dialClient(t, "")
	unknown := "no-such-task-" + newUserID(t)[3:]

	_, err := c.Get(callCtx(t, rpcTimeout), unknown)
	var e *taskservice.Error
	if !errors.Is(err, taskservice.ErrNotFound) || !errors.As(err, &e) || e.Reason != "TaskNotFound" ||
		!strings.Contains(e.Message, unknown) || status.Code(err) != codes.NotFound {
		t.Errorf("Get of an unknown task: %#v, want ErrNotFound with reason TaskNotFound naming the id", err)
	}

	var awaitErr error
	for _, err := range c.Await(callCtx(t, rpcTimeout), unknown) {
		awaitErr = err
	}
	if !errors.Is(awaitErr, taskservice.ErrNotFound) {
		t.Errorf("Await of an unknown task: %v, want ErrNotFound", awaitErr)
	}

	// Another user's task is NOT_FOUND exactly like a missing one.
	exec := backgroundSleep(t, c, newUserID(t), 30)
	if _, err := c.Get(callCtx(t, rpcTimeout), exec.Handle.ID(), taskservice.WithUser(newUserID(t))); !errors.Is(err, taskservice.ErrNotFound) {
		t.Errorf("Get of another user's task: %v, want ErrNotFound", err)
	}

	_, err = c.Execute(callCtx(t, rpcTimeout), "no_such_tool", nil)
	if !errors.Is(err, taskservice.ErrNotFound) || !errors.As(err, &e) || e.Reason != "ToolNotFound" {
		t.Errorf("Execute of an unknown tool: %#v, want ErrNotFound with reason ToolNotFound", err)
	}
}

func TestClientBadArgumentsAreInvalidArgumentNamingTheField(t *testing.T) {
	c := dialClient(t, "")
	_, err := c.Execute(callCtx(t, rpcTimeout), "sleep", map[string]any{"seconds": "x"})
	if !errors.Is(err, taskservice.ErrInvalidArgument) || !strings.Contains(err.Error(), "seconds") {
		t.Errorf("Execute sleep with a string: %v, want ErrInvalidArgument naming seconds", err)
	}
	_, err = c.Execute(callCtx(t, rpcTimeout), "echo", json.RawMessage(`[1]`))
	if !errors.Is(err, taskservice.ErrInvalidArgument) {
		t.Errorf("Execute with an array: %v, want ErrInvalidArgument", err)
	}
	_, err = c.Get(callCtx(t, rpcTimeout), "bad id!")
	if !errors.Is(err, taskservice.ErrInvalidArgument) {
		t.Errorf("Get of a malformed id: %v, want ErrInvalidArgument", err)
	}
}

func TestClientListPagesThroughTheUsersTasksNewestFirst(t *testing.T) {
	c := dialClient(t, "")
	user := newUserID(t)
	backgroundSleep(t, c, newUserID(t), 5) // another user's: left out
	var created []string
	for range 3 {
		created = append(created, backgroundSleep(t, c, user, 5).Handle.ID())
	}
	slices.Reverse(created)

	var listed []string
	for task, err := range c.List(callCtx(t, rpcTimeout), taskservice.WithUser(user), taskservice.WithPageSize(2)) {
		if err != nil {
			t.Fatalf("List after %d tasks: %v", len(listed), err)
		}
		listed = append(listed, task.ID)
	}
	if !slices.Equal(listed, created) {
		t.Errorf("listed %v, want %v", listed, created)
	}

	first, err := c.ListPage(callCtx(t, rpcTimeout), "", taskservice.WithUser(user), taskservice.WithPageSize(2))
	if err != nil || len(first.Tasks) != 2 || first.NextPageToken == "" {
		t.Fatalf("first page = %+v, %v; want 2 tasks and a next page", first, err)
	}
	second, err := c.ListPage(callCtx(t, rpcTimeout), first.NextPageToken, taskservice.WithUser(user), taskservice.WithPageSize(2))
	if err != nil || len(second.Tasks) != 1 || second.NextPageToken != "" || second.Tasks[0].ID != created[2] {
		t.Errorf("second page = %+v, %v; want the oldest task and no next page", second, err)
	}
	running := 0
	for _, err := range c.List(callCtx(t, rpcTimeout), taskservice.WithUser(user), taskservice.WithStatus(taskservice.StatusRunning), taskservice.WithTool("sleep")) {
		if err != nil {
			t.Fatal(err)
		}
		running++
	}
	if running != 3 {
		t.Errorf("%d running sleep tasks listed, want 3", running)
	}
}

func TestClientAwaitStopsPromptlyWhenItsContextIsCancelled(t *testing.T) {
	c := dialClient(t, "")
	exec := backgroundSleep(t, c, newUserID(t), 30)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var cancelledAt time.Time
	var final error
	for u, err := range exec.Handle.Await(ctx) {
		if err != nil {
			final = err
			break
		}
		if u.Kind == taskservice.UpdateSnapshot {
			cancelledAt = time.Now()
			cancel()
		}
	}
	if cancelledAt.IsZero() {
		t.Fatalf("no snapshot before the end (%v)", final)
	}
	if took := time.Since(cancelledAt); took > time.Second {
		t.Errorf("Await ran %s past its context's cancel", took)
	}
	if !errors.Is(final, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", final)
	}
	// The task itself goes on: only the wait was cancelled.
	if snap, err := exec.Handle.Get(callCtx(t, rpcTimeout)); err != nil || snap.Task.Status != taskservice.StatusRunning {
		t.Errorf("task after the cancelled wait = %+v, %v; want RUNNING", snap, err)
	}
}

func TestClientToolsListsTheExampleAndMetaTools(t *testing.T) {
	tools, err := dialClient(t, "").Tools(callCtx(t, rpcTimeout))
	if err != nil {
		t.Fatalf("Tools: %v", err)
	}
	sources := map[string]string{}
	for _, tool := range tools {
		sources[tool.Name] = tool.Source
	}
	for name, source := range map[string]string{"echo": "example", "sleep": "example", "check_task": "meta", "redirect_task": "meta"} {
		if sources[name] != source {
			t.Errorf("tool %s has source %q, want %q", name, sources[name], source)
		}
	}
}

func TestClientGivesUpWithUnavailableWhenNoServerListens(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close() // nothing listens there now

	policy := taskservice.RetryPolicy{MaxAttempts: 3, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	started := time.Now()
	_, err = dialClient(t, addr, taskservice.WithRetry(policy)).Get(callCtx(t, rpcTimeout), "t1")
	if !errors.Is(err, taskservice.ErrUnavailable) {
		t.Errorf("Get with no server: %v, want ErrUnavailable", err)
	}
	// Three attempts and two waits of at most 50 and 100 ms, not the call's 10 s deadline.
	if took := time.Since(started); took > 3*time.Second {
		t.Errorf("gave up after %s", took)
	}
}

func TestClientTokenIsRequiredBySecuredServerAndWithTokenPasses(t *testing.T) {
	const token = "0123456789abcdef0123"
	srv := startTestServer(t, `TASKSERVICE_AUTH_TOKENS={"t":{"token":"`+token+`","users":"*"}}`)

	_, err := dialClient(t, srv.addr).Tools(callCtx(t, rpcTimeout))
	if !errors.Is(err, taskservice.ErrUnauthenticated) {
		t.Errorf("without a token: %v, want ErrUnauthenticated", err)
	}
	_, err = dialClient(t, srv.addr, taskservice.WithToken("wrong-token-0123456789")).Tools(callCtx(t, rpcTimeout))
	if !errors.Is(err, taskservice.ErrUnauthenticated) {
		t.Errorf("with a wrong token: %v, want ErrUnauthenticated", err)
	}

	c := dialClient(t, srv.addr, taskservice.WithToken(token))
	if _, err := c.Tools(callCtx(t, rpcTimeout)); err != nil {
		t.Errorf("Tools with the token: %v", err)
	}
	// Streams carry the token too.
	exec := backgroundSleep(t, c, newUserID(t), 0.5)
	if task, err := exec.Handle.Wait(callCtx(t, rpcTimeout)); err != nil || task.Result != "slept 0.5 s" {
		t.Errorf("Wait with the token = %+v, %v", task, err)
	}
}

// A stream read to its last message must end by the server's status, not by
// a cancel: a cancel sends a RST_STREAM, and the server's HTTP/2 (nghttp2's
// rapid-reset guard: a burst of about 1,000, then 33 a second) answers more
// of them with GOAWAY INTERNAL_ERROR, closing the connection. grpc-go hides
// that from the calls (it resends the streams the GOAWAY refused on a new
// connection), so these tests read 3,000 streams to their end through one
// client (well past the burst: not every cancel comes before the status) and
// also check that it never had to connect again.
const (
	streamsOverOneConnection = 3000
	streamsAtOnce            = 50
)

// countingClient is a client of the shared server and the number of
// connections it has made.
func countingClient(t *testing.T) (*taskservice.Client, *atomic.Int64) {
	t.Helper()
	var dials atomic.Int64
	dialer := grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	})
	return dialClient(t, "", taskservice.WithDialOptions(dialer)), &dials
}

// repeatedly runs follow streamsOverOneConnection times, streamsAtOnce at a
// time, and fails the test at the first batch with an error or after which
// the client had to connect again.
func repeatedly(t *testing.T, dials *atomic.Int64, follow func(ctx context.Context) error) {
	t.Helper()
	for done := 0; done < streamsOverOneConnection; done += streamsAtOnce {
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			failed int
			first  error
		)
		for range streamsAtOnce {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
				defer cancel()
				if err := follow(ctx); err != nil {
					mu.Lock()
					defer mu.Unlock()
					if failed++; first == nil {
						first = err
					}
				}
			})
		}
		wg.Wait()
		if failed > 0 {
			t.Fatalf("after %d streams, %d of the next %d failed; the first: %v", done, failed, streamsAtOnce, first)
		}
		if n := dials.Load(); n != 1 {
			t.Fatalf("after %d streams the client has made %d connections, want 1: the server closed it", done+streamsAtOnce, n)
		}
	}
}

func TestClientAwaitFollowsATaskToItsEnd3000TimesOverOneConnection(t *testing.T) {
	c, dials := countingClient(t)
	user := newUserID(t)
	exec, err := c.Execute(callCtx(t, rpcTimeout), "sleep", map[string]any{"seconds": 0.05},
		taskservice.WithUser(user), taskservice.WithBudget(time.Millisecond))
	if err != nil || !exec.Backgrounded {
		t.Fatalf("Execute sleep 0.05 s with a 1 ms budget = %+v, %v; want it backgrounded", exec, err)
	}
	id := exec.Handle.ID()

	repeatedly(t, dials, func(ctx context.Context) error {
		var last taskservice.Update
		for u, err := range c.Await(ctx, id, taskservice.WithUser(user)) {
			if err != nil {
				return err
			}
			last = u
		}
		if last.Kind != taskservice.UpdateTerminal || last.Text != "slept 0.05 s" {
			return fmt.Errorf("last update %s %q, want the terminal one", last.Kind, last.Text)
		}
		return nil
	})
}

func TestClientExecuteStreamReadToItsInlineAnswer3000TimesOverOneConnection(t *testing.T) {
	c, dials := countingClient(t)
	user := newUserID(t)

	repeatedly(t, dials, func(ctx context.Context) error {
		for ev, err := range c.ExecuteStream(ctx, "echo", map[string]string{"text": "hi"}, taskservice.WithUser(user)) {
			if err != nil {
				return err
			}
			if ev.Kind != taskservice.EventAnswer {
				continue
			}
			if ev.Answer.Backgrounded || ev.Answer.Text != "hi" {
				return fmt.Errorf("answer %+v, want %q inline", ev.Answer, "hi")
			}
			return nil // the consumer stops at the answer, the stream's last message
		}
		return errors.New("the stream ended without an answer")
	})
}
