package clients_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

const (
	// Every call carries a deadline so a misbehaving server fails a test
	// instead of hanging the suite.
	rpcTimeout = 10 * time.Second
	// Short enough that a 1 s+ sleep is always backgrounded, long enough that
	// the call is not racing the server's own bookkeeping.
	backgroundBudgetSeconds = 0.2
)

func callCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newUserID isolates a test: ListTasks and ownership checks are per user, so a
// fresh id hides everything the other tests created on the shared server.
func newUserID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random user id: %v", err)
	}
	return "go-" + hex.EncodeToString(b)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return string(b)
}

// execute runs a tool; budgetSeconds 0 leaves timeout_seconds unset.
func execute(t *testing.T, tool, argumentsJSON, userID string, budgetSeconds float64) (*pb.ExecuteResponse, error) {
	t.Helper()
	req := &pb.ExecuteRequest{ToolName: tool, ArgumentsJson: argumentsJSON, UserId: userID}
	if budgetSeconds > 0 {
		req.TimeoutSeconds = proto.Float64(budgetSeconds)
	}
	return client.Execute(callCtx(t, rpcTimeout), req)
}

func startBackgroundSleep(t *testing.T, userID string, seconds float64) *pb.Task {
	t.Helper()
	resp, err := execute(t, "sleep", mustJSON(t, map[string]any{"seconds": seconds}), userID, backgroundBudgetSeconds)
	if err != nil {
		t.Fatalf("Execute sleep %vs: %v", seconds, err)
	}
	// A precondition for the tests that use it; checked here so a failure
	// points at backgrounding rather than at whatever the test does next.
	if !resp.GetBackgrounded() || resp.GetTask().GetTaskId() == "" {
		t.Fatalf("sleep %vs with a %vs budget was not backgrounded: %v", seconds, backgroundBudgetSeconds, resp)
	}
	return resp.GetTask()
}

func awaitAll(t *testing.T, taskID, userID string, waitSeconds float64, timeout time.Duration) ([]*pb.AwaitResultResponse, error) {
	t.Helper()
	stream, err := client.AwaitResult(callCtx(t, timeout), &pb.AwaitResultRequest{
		TaskId: taskID, UserId: userID, TimeoutSeconds: proto.Float64(waitSeconds),
	})
	if err != nil {
		return nil, err
	}
	var messages []*pb.AwaitResultResponse
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return messages, nil
		}
		if err != nil {
			return messages, err
		}
		messages = append(messages, msg)
	}
}

func getResult(t *testing.T, taskID, userID string) *pb.GetResultResponse {
	t.Helper()
	resp, err := client.GetResult(callCtx(t, rpcTimeout), &pb.GetResultRequest{TaskId: taskID, UserId: userID})
	if err != nil {
		t.Fatalf("GetResult %s: %v", taskID, err)
	}
	return resp
}

// cancelLater is cleanup only: the task may already have finished, which is
// not what the calling test is about.
func cancelLater(t *testing.T, taskID, userID string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
		defer cancel()
		_, _ = client.CancelTask(ctx, &pb.CancelTaskRequest{TaskId: taskID, UserId: userID})
	})
}

func checkStreamShape(t *testing.T, messages []*pb.AwaitResultResponse, taskID string) {
	t.Helper()
	if len(messages) == 0 {
		t.Fatal("AwaitResult ended without sending any message")
	}
	if k := messages[0].GetKind(); k != pb.UpdateKind_UPDATE_KIND_SNAPSHOT {
		t.Errorf("first message kind = %s, want SNAPSHOT", k)
	}
	for i, m := range messages {
		if m.GetSequence() != uint64(i+1) {
			t.Errorf("message %d has sequence %d, want %d", i, m.GetSequence(), i+1)
		}
		if m.GetTask().GetTaskId() != taskID {
			t.Errorf("message %d is about task %q, want %q", i, m.GetTask().GetTaskId(), taskID)
		}
		if i == len(messages)-1 {
			continue
		}
		// Only the last message may close the stream.
		if k := m.GetKind(); k == pb.UpdateKind_UPDATE_KIND_TERMINAL || k == pb.UpdateKind_UPDATE_KIND_WAIT_TIMED_OUT {
			t.Errorf("message %d of %d has closing kind %s", i+1, len(messages), k)
		}
		if s := m.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_RUNNING {
			t.Errorf("message %d of %d has status %s before the end", i+1, len(messages), s)
		}
		if m.GetWaitTimedOut() {
			t.Errorf("message %d of %d has wait_timed_out before the end", i+1, len(messages))
		}
	}
}

func TestEchoSettlesInlineAndReturnsItsTextUnchanged(t *testing.T) {
	user := newUserID(t)
	text := fmt.Sprintf("echo %s with spaces, \"quotes\" and ünïcødé ✓", user)

	resp, err := execute(t, "echo", mustJSON(t, map[string]any{"text": text}), user, 5)
	if err != nil {
		t.Fatalf("Execute echo: %v", err)
	}

	if resp.GetBackgrounded() {
		t.Error("echo was backgrounded")
	}
	if s := resp.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_COMPLETED {
		t.Errorf("status = %s, want COMPLETED", s)
	}
	if n := resp.GetTask().GetToolName(); n != "echo" {
		t.Errorf("tool_name = %q, want echo", n)
	}
	if resp.GetText() != text {
		t.Errorf("text = %q, want %q", resp.GetText(), text)
	}
	if r := resp.GetTask().GetResult(); r != text {
		t.Errorf("task.result = %q, want %q", r, text)
	}
}

func TestFailingToolSettlesInlineAsFailedWithToolErrorAndItsMessage(t *testing.T) {
	user := newUserID(t)
	message := "deliberate failure " + user

	resp, err := execute(t, "fail", mustJSON(t, map[string]any{"message": message}), user, 5)
	if err != nil {
		t.Fatalf("Execute fail: %v", err)
	}

	if resp.GetBackgrounded() {
		t.Error("fail was backgrounded")
	}
	if s := resp.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_FAILED {
		t.Errorf("status = %s, want FAILED", s)
	}
	if r := resp.GetTask().GetFailureReason(); r != pb.FailureReason_FAILURE_REASON_TOOL_ERROR {
		t.Errorf("failure_reason = %s, want TOOL_ERROR", r)
	}
	if e := resp.GetTask().GetError(); e != message {
		t.Errorf("task.error = %q, want %q", e, message)
	}
	if !strings.Contains(resp.GetText(), message) {
		t.Errorf("text %q does not carry the error %q", resp.GetText(), message)
	}
}

func TestSleepPastItsBudgetIsBackgroundedAndAwaitStreamsItToCompletion(t *testing.T) {
	user := newUserID(t)

	started := time.Now()
	resp, err := execute(t, "sleep", `{"seconds": 2}`, user, 0.3)
	executeElapsed := time.Since(started)
	if err != nil {
		t.Fatalf("Execute sleep: %v", err)
	}

	if !resp.GetBackgrounded() {
		t.Fatalf("a 2s sleep with a 0.3s budget was not backgrounded: %v", resp)
	}
	// Backgrounding means answering at the budget, not after the tool.
	if executeElapsed > 1500*time.Millisecond {
		t.Errorf("Execute took %s for a 0.3s budget", executeElapsed)
	}
	taskID := resp.GetTask().GetTaskId()
	if taskID == "" {
		t.Fatal("backgrounded task has no task_id")
	}
	if s := resp.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_RUNNING {
		t.Errorf("status = %s, want RUNNING", s)
	}

	var envelope map[string]any
	if err := json.Unmarshal([]byte(resp.GetText()), &envelope); err != nil {
		t.Fatalf("text is not a JSON object: %v: %q", err, resp.GetText())
	}
	if envelope["task_id"] != taskID {
		t.Errorf("envelope task_id = %v, want %q", envelope["task_id"], taskID)
	}
	if envelope["status"] != "running" {
		t.Errorf("envelope status = %v, want running", envelope["status"])
	}
	if envelope["tool_name"] != "sleep" {
		t.Errorf("envelope tool_name = %v, want sleep", envelope["tool_name"])
	}
	if msg, _ := envelope["message"].(string); !strings.Contains(msg, "check_task") {
		t.Errorf("envelope message %q does not mention check_task", msg)
	}

	messages, err := awaitAll(t, taskID, user, 30, 30*time.Second)
	finished := time.Since(started)
	if err != nil {
		t.Fatalf("AwaitResult after %d messages: %v", len(messages), err)
	}

	checkStreamShape(t, messages, taskID)
	last := messages[len(messages)-1]
	if k := last.GetKind(); k != pb.UpdateKind_UPDATE_KIND_TERMINAL {
		t.Errorf("last kind = %s, want TERMINAL", k)
	}
	if last.GetWaitTimedOut() {
		t.Error("last message has wait_timed_out with a 30s limit")
	}
	if s := last.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_COMPLETED {
		t.Errorf("last status = %s, want COMPLETED", s)
	}
	if last.GetText() != last.GetTask().GetResult() {
		t.Errorf("last text %q differs from task.result %q", last.GetText(), last.GetTask().GetResult())
	}
	if !strings.HasPrefix(last.GetText(), "slept") {
		t.Errorf("sleep result %q does not start with \"slept\"", last.GetText())
	}
	// The terminal state must come from the tool actually finishing.
	if finished < 1900*time.Millisecond {
		t.Errorf("terminal after %s for a 2s sleep", finished)
	}

	after := getResult(t, taskID, user)
	if s := after.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_COMPLETED {
		t.Errorf("GetResult after terminal: status = %s, want COMPLETED", s)
	}
	if after.GetText() != last.GetText() {
		t.Errorf("GetResult text %q differs from the terminal text %q", after.GetText(), last.GetText())
	}
}

func TestAwaitWithAWaitLimitShorterThanTheTaskEndsWithWaitTimedOutWhileRunning(t *testing.T) {
	user := newUserID(t)
	task := startBackgroundSleep(t, user, 5)
	cancelLater(t, task.GetTaskId(), user)

	started := time.Now()
	messages, err := awaitAll(t, task.GetTaskId(), user, 0.5, rpcTimeout)
	elapsed := time.Since(started)
	if err != nil {
		t.Fatalf("AwaitResult after %d messages: %v", len(messages), err)
	}

	checkStreamShape(t, messages, task.GetTaskId())
	last := messages[len(messages)-1]
	if !last.GetWaitTimedOut() {
		t.Error("last message does not have wait_timed_out")
	}
	if k := last.GetKind(); k != pb.UpdateKind_UPDATE_KIND_WAIT_TIMED_OUT {
		t.Errorf("last kind = %s, want WAIT_TIMED_OUT", k)
	}
	if s := last.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_RUNNING {
		t.Errorf("last status = %s, want RUNNING", s)
	}
	// The stream must end at the wait limit, not when the task ends.
	if elapsed > 3500*time.Millisecond {
		t.Errorf("AwaitResult with a 0.5s limit took %s", elapsed)
	}
}

func TestListTasksPagesNewestFirstThroughOnlyThisUsersBackgroundTasks(t *testing.T) {
	user := newUserID(t)
	// Noise the listing must leave out: another user's task and an inline call.
	startBackgroundSleep(t, newUserID(t), 1)
	inline, err := execute(t, "echo", `{"text": "inline"}`, user, 5)
	if err != nil {
		t.Fatalf("Execute echo: %v", err)
	}
	if inline.GetBackgrounded() {
		t.Fatal("inline echo was backgrounded")
	}

	var created []string
	for range 3 {
		created = append(created, startBackgroundSleep(t, user, 1).GetTaskId())
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)

	first, err := client.ListTasks(callCtx(t, rpcTimeout), &pb.ListTasksRequest{UserId: user, PageSize: 2})
	if err != nil {
		t.Fatalf("ListTasks page 1: %v", err)
	}
	if got := taskIDs(first.GetTasks()); !slices.Equal(got, newestFirst[:2]) {
		t.Errorf("page 1 = %v, want %v", got, newestFirst[:2])
	}
	if first.GetNextPageToken() == "" {
		t.Fatal("page 1 has no next_page_token although a third task remains")
	}

	second, err := client.ListTasks(callCtx(t, rpcTimeout), &pb.ListTasksRequest{
		UserId: user, PageSize: 2, PageToken: first.GetNextPageToken(),
	})
	if err != nil {
		t.Fatalf("ListTasks page 2: %v", err)
	}
	if got := taskIDs(second.GetTasks()); !slices.Equal(got, newestFirst[2:]) {
		t.Errorf("page 2 = %v, want %v", got, newestFirst[2:])
	}
	if tok := second.GetNextPageToken(); tok != "" {
		t.Errorf("last page has next_page_token %q, want empty", tok)
	}

	for _, task := range append(first.GetTasks(), second.GetTasks()...) {
		if task.GetUserId() != user {
			t.Errorf("task %s has user_id %q, want %q", task.GetTaskId(), task.GetUserId(), user)
		}
		if task.GetToolName() != "sleep" {
			t.Errorf("task %s has tool_name %q, want sleep", task.GetTaskId(), task.GetToolName())
		}
	}
}

func taskIDs(tasks []*pb.Task) []string {
	ids := make([]string, 0, len(tasks))
	for _, task := range tasks {
		ids = append(ids, task.GetTaskId())
	}
	return ids
}

func TestCancelStopsARunningTaskAsFailedCancelled(t *testing.T) {
	user := newUserID(t)
	task := startBackgroundSleep(t, user, 30)

	resp, err := client.CancelTask(callCtx(t, rpcTimeout), &pb.CancelTaskRequest{TaskId: task.GetTaskId(), UserId: user})
	if err != nil {
		t.Fatalf("CancelTask: %v", err)
	}

	if id := resp.GetTask().GetTaskId(); id != task.GetTaskId() {
		t.Errorf("cancelled task_id = %q, want %q", id, task.GetTaskId())
	}
	if s := resp.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_FAILED {
		t.Errorf("status = %s, want FAILED", s)
	}
	if r := resp.GetTask().GetFailureReason(); r != pb.FailureReason_FAILURE_REASON_CANCELLED {
		t.Errorf("failure_reason = %s, want CANCELLED", r)
	}
	// The cancellation has to stick, not just be reported once.
	after := getResult(t, task.GetTaskId(), user)
	if s := after.GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_FAILED {
		t.Errorf("GetResult after cancel: status = %s, want FAILED", s)
	}
	if r := after.GetTask().GetFailureReason(); r != pb.FailureReason_FAILURE_REASON_CANCELLED {
		t.Errorf("GetResult after cancel: failure_reason = %s, want CANCELLED", r)
	}
}

func TestCancelByAnotherUserIsNotFoundAndLeavesTheTaskRunning(t *testing.T) {
	user := newUserID(t)
	task := startBackgroundSleep(t, user, 30)
	cancelLater(t, task.GetTaskId(), user)

	_, err := client.CancelTask(callCtx(t, rpcTimeout), &pb.CancelTaskRequest{TaskId: task.GetTaskId(), UserId: newUserID(t)})
	if code := status.Code(err); code != codes.NotFound {
		t.Errorf("CancelTask by a stranger: code %s (%v), want NotFound", code, err)
	}

	if s := getResult(t, task.GetTaskId(), user).GetTask().GetStatus(); s != pb.TaskStatus_TASK_STATUS_RUNNING {
		t.Errorf("owner sees status %s after a stranger's cancel, want RUNNING", s)
	}
}

func TestBadRequestsFailWithTheContractStatusCode(t *testing.T) {
	executeRaw := func(tool, argumentsJSON string) func(*testing.T, *pb.Task, string) error {
		return func(t *testing.T, _ *pb.Task, owner string) error {
			_, err := client.Execute(callCtx(t, rpcTimeout), &pb.ExecuteRequest{
				ToolName: tool, ArgumentsJson: argumentsJSON, UserId: owner,
			})
			return err
		}
	}

	cases := []struct {
		name string
		call func(t *testing.T, owned *pb.Task, owner string) error
		want codes.Code
	}{
		{
			name: "execute of an unknown tool is not found",
			call: executeRaw("no_such_tool_"+newUserID(t)[3:11], "{}"),
			want: codes.NotFound,
		},
		{
			name: "execute with arguments that are a JSON array is invalid",
			call: executeRaw("echo", "[1]"),
			want: codes.InvalidArgument,
		},
		{
			name: "execute with arguments that are not JSON is invalid",
			call: executeRaw("echo", `{"text": `),
			want: codes.InvalidArgument,
		},
		{
			name: "execute with arguments failing the tool schema is invalid",
			call: executeRaw("sleep", `{"seconds": "x"}`),
			want: codes.InvalidArgument,
		},
		{
			name: "get result with a malformed task id is invalid",
			call: func(t *testing.T, _ *pb.Task, owner string) error {
				_, err := client.GetResult(callCtx(t, rpcTimeout), &pb.GetResultRequest{TaskId: "bad id!", UserId: owner})
				return err
			},
			want: codes.InvalidArgument,
		},
		{
			name: "get result for another user's task is not found",
			call: func(t *testing.T, owned *pb.Task, _ string) error {
				_, err := client.GetResult(callCtx(t, rpcTimeout), &pb.GetResultRequest{TaskId: owned.GetTaskId(), UserId: newUserID(t)})
				return err
			},
			want: codes.NotFound,
		},
		{
			name: "await result for another user's task is not found",
			call: func(t *testing.T, owned *pb.Task, _ string) error {
				_, err := awaitAll(t, owned.GetTaskId(), newUserID(t), 1, rpcTimeout)
				return err
			},
			want: codes.NotFound,
		},
		{
			name: "cancel for another user's task is not found",
			call: func(t *testing.T, owned *pb.Task, _ string) error {
				_, err := client.CancelTask(callCtx(t, rpcTimeout), &pb.CancelTaskRequest{TaskId: owned.GetTaskId(), UserId: newUserID(t)})
				return err
			},
			want: codes.NotFound,
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			owner := newUserID(t)
			owned := startBackgroundSleep(t, owner, 30)
			cancelLater(t, owned.GetTaskId(), owner)

			err := tc.call(t, owned, owner)
			if code := status.Code(err); code != tc.want {
				t.Errorf("code %s (%v), want %s", code, err, tc.want)
			}
		})
	}
}

func TestListToolsOffersTheExampleToolsAndTheMetaTools(t *testing.T) {
	resp, err := client.ListTools(callCtx(t, rpcTimeout), &pb.ListToolsRequest{})
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}

	byName := map[string]*pb.ToolInfo{}
	for _, tool := range resp.GetTools() {
		if _, dup := byName[tool.GetName()]; dup {
			t.Errorf("tool %q is listed twice", tool.GetName())
		}
		byName[tool.GetName()] = tool
	}
	for _, name := range []string{"echo", "sleep", "fail", "check_task", "cancel_task", "redirect_task"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("tool %q missing from %v", name, slices.Sorted(maps.Keys(byName)))
		}
	}
	for _, name := range []string{"echo", "sleep", "fail"} {
		tool, ok := byName[name]
		if !ok {
			continue
		}
		// Clients hand this schema to a model, so it has to be a JSON object.
		var schema map[string]any
		if err := json.Unmarshal([]byte(tool.GetParametersJsonSchema()), &schema); err != nil {
			t.Errorf("%s schema is not a JSON object: %v: %q", name, err, tool.GetParametersJsonSchema())
		}
	}
}
