package taskservice_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

func TestWithTokenSendsABearerTokenOnEveryCallOverPlaintext(t *testing.T) {
	f := &fake{
		getResult:   unavailableFor[*pb.GetResultRequest](0, &pb.GetResultResponse{Task: running("t1")}),
		awaitResult: script([][]*pb.AwaitResultResponse{{update(terminal, 1, completed("t1", "x"))}}, []error{nil}),
	}
	// serve dials in plaintext: the token must go anyway (loopback servers).
	client := serve(t, f, taskservice.WithToken("0123456789abcdef0123"))
	if _, err := client.Get(ctxFor(t), "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Wait(ctxFor(t), "t1"); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GetResult", "AwaitResult"} {
		_, mds := f.received(method)
		if got := mds[0].Get("authorization"); !slices.Equal(got, []string{"Bearer 0123456789abcdef0123"}) {
			t.Errorf("%s authorization = %q", method, got)
		}
	}

	// Without the option, nothing is sent.
	plain := &fake{getResult: unavailableFor[*pb.GetResultRequest](0, &pb.GetResultResponse{})}
	if _, err := serve(t, plain).Get(ctxFor(t), "t1"); err != nil {
		t.Fatal(err)
	}
	if _, mds := plain.received("GetResult"); len(mds[0].Get("authorization")) != 0 {
		t.Errorf("authorization sent without WithToken: %q", mds[0].Get("authorization"))
	}
}

func TestExecuteSendsTheArgumentsAndOptions(t *testing.T) {
	f := &fake{execute: func(_ context.Context, _ int, req *pb.ExecuteRequest) (*pb.ExecuteResponse, error) {
		return &pb.ExecuteResponse{Text: "ok", Task: &pb.Task{ToolName: req.GetToolName(), Status: pb.TaskStatus_TASK_STATUS_COMPLETED}}, nil
	}}
	client := serve(t, f)
	args := []struct {
		args any
		want string
	}{
		{nil, ""},
		{map[string]any{"text": "hi"}, `{"text":"hi"}`},
		{struct {
			Seconds float64 `json:"seconds"`
		}{1.5}, `{"seconds":1.5}`},
		{json.RawMessage(`{"text": "raw"}`), `{"text": "raw"}`},
		{[]byte(`{"b":1}`), `{"b":1}`},
		{`{"as": "the model wrote it"}`, `{"as": "the model wrote it"}`},
	}
	for _, a := range args {
		if _, err := client.Execute(ctxFor(t), "echo", a.args); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Execute(ctxFor(t), "echo", make(chan int)); err == nil {
		t.Error("arguments that do not encode as JSON were sent")
	}
	exec, err := client.Execute(ctxFor(t), "echo", nil,
		taskservice.WithUser("alice"), taskservice.WithChannel("chat", "C1"), taskservice.WithBudget(1500*time.Millisecond),
		taskservice.WithRequestID("call-1"), taskservice.WithRedirect(taskservice.Target{Platform: "hooks", ChannelID: "C2", MaxChars: 100}))
	if err != nil {
		t.Fatal(err)
	}

	reqs, _ := f.received("Execute")
	if len(reqs) != len(args)+1 {
		t.Fatalf("%d requests, want %d", len(reqs), len(args)+1)
	}
	for i, a := range args {
		if got := reqs[i].(*pb.ExecuteRequest).GetArgumentsJson(); got != a.want {
			t.Errorf("arguments %#v sent as %q, want %q", a.args, got, a.want)
		}
		if reqs[i].(*pb.ExecuteRequest).TimeoutSeconds != nil {
			t.Errorf("a budget was sent without WithBudget")
		}
	}
	want := &pb.ExecuteRequest{
		ToolName: "echo", UserId: "alice", Platform: "chat", ChannelId: "C1", TimeoutSeconds: proto.Float64(1.5), RequestId: "call-1",
		Redirect: &pb.RedirectTarget{Platform: "hooks", ChannelId: "C2", MaxChars: 100},
	}
	if got := reqs[len(args)].(*pb.ExecuteRequest); !proto.Equal(got, want) {
		t.Errorf("request = %v, want %v", got, want)
	}
	// Inline and nothing stored: no handle.
	if exec.Backgrounded || exec.Handle != nil || exec.Text != "ok" || exec.Task.Status != taskservice.StatusCompleted {
		t.Errorf("execution = %+v", exec)
	}
}

func TestABackgroundedExecutionHasAHandleForItsUser(t *testing.T) {
	f := &fake{
		execute: func(context.Context, int, *pb.ExecuteRequest) (*pb.ExecuteResponse, error) {
			return &pb.ExecuteResponse{Backgrounded: true, Text: `{"task_id":"t1"}`, Task: running("t1")}, nil
		},
		cancelTask: func(_ context.Context, _ int, req *pb.CancelTaskRequest) (*pb.CancelTaskResponse, error) {
			return &pb.CancelTaskResponse{Task: &pb.Task{TaskId: req.GetTaskId(), Status: pb.TaskStatus_TASK_STATUS_FAILED}}, nil
		},
		getResult: unavailableFor[*pb.GetResultRequest](0, &pb.GetResultResponse{Task: running("t1"), Text: `{"status":"running"}`}),
		setRedirect: func(_ context.Context, _ int, req *pb.SetOutputRedirectRequest) (*pb.SetOutputRedirectResponse, error) {
			return &pb.SetOutputRedirectResponse{Task: &pb.Task{TaskId: req.GetTaskId(), Redirect: &pb.OutputRedirect{
				Platform: req.GetPlatform(), ChannelId: req.GetChannelId(), DeliveryState: pb.DeliveryState_DELIVERY_STATE_PENDING,
			}}}, nil
		},
	}
	client := serve(t, f)
	exec, err := client.Execute(ctxFor(t), "sleep", map[string]any{"seconds": 30}, taskservice.WithUser("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if !exec.Backgrounded || exec.Handle == nil || exec.Handle.ID() != "t1" || exec.Handle.User() != "alice" || exec.Err() != nil {
		t.Fatalf("execution = %+v", exec)
	}
	if snap, err := exec.Handle.Get(ctxFor(t)); err != nil || snap.Text != `{"status":"running"}` || snap.Task.Status != taskservice.StatusRunning {
		t.Errorf("Get = %+v, %v", snap, err)
	}
	task, err := exec.Handle.Redirect(ctxFor(t), taskservice.Target{Platform: "chat", ChannelID: "C1"})
	if err != nil || task.Redirect == nil || task.Redirect.State != taskservice.DeliveryPending || task.Redirect.ChannelID != "C1" {
		t.Errorf("Redirect = %+v, %v", task, err)
	}
	if task, err := exec.Handle.Cancel(ctxFor(t)); err != nil || task.Status != taskservice.StatusFailed {
		t.Errorf("Cancel = %+v, %v", task, err)
	}
	get, _ := f.received("GetResult")
	cancel, _ := f.received("CancelTask")
	redirect, _ := f.received("SetOutputRedirect")
	if get[0].(*pb.GetResultRequest).GetUserId() != "alice" || cancel[0].(*pb.CancelTaskRequest).GetUserId() != "alice" ||
		redirect[0].(*pb.SetOutputRedirectRequest).GetUserId() != "alice" {
		t.Errorf("the handle's calls did not act for alice: %v %v %v", get, cancel, redirect)
	}
}

// pages serves tasks t1..tN, size a page, with the page token the next index.
func pages(n int) func(context.Context, int, *pb.ListTasksRequest) (*pb.ListTasksResponse, error) {
	return func(_ context.Context, _ int, req *pb.ListTasksRequest) (*pb.ListTasksResponse, error) {
		from := 0
		if req.GetPageToken() != "" {
			_, _ = fmt.Sscan(req.GetPageToken(), &from)
		}
		to := min(from+int(req.GetPageSize()), n)
		resp := &pb.ListTasksResponse{}
		for i := from; i < to; i++ {
			resp.Tasks = append(resp.Tasks, running(fmt.Sprintf("t%d", i+1)))
		}
		if to < n {
			resp.NextPageToken = fmt.Sprint(to)
		}
		return resp, nil
	}
}

func TestListIteratesOverEveryPageAndStopsFetchingWhenTheLoopStops(t *testing.T) {
	f := &fake{listTasks: pages(5)}
	client := serve(t, f)
	var ids []string
	for task, err := range client.List(ctxFor(t), taskservice.WithPageSize(2), taskservice.WithUser("alice"),
		taskservice.WithStatus(taskservice.StatusRunning), taskservice.WithTool("sleep")) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	if want := []string{"t1", "t2", "t3", "t4", "t5"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	reqs, _ := f.received("ListTasks")
	if len(reqs) != 3 {
		t.Errorf("%d pages fetched, want 3", len(reqs))
	}
	want := &pb.ListTasksRequest{UserId: "alice", Status: pb.TaskStatus_TASK_STATUS_RUNNING, ToolName: "sleep", PageSize: 2, PageToken: "2"}
	if !proto.Equal(reqs[1].(*pb.ListTasksRequest), want) {
		t.Errorf("second page request = %v, want %v", reqs[1], want)
	}

	for range client.List(ctxFor(t), taskservice.WithPageSize(2)) {
		break
	}
	if reqs, _ := f.received("ListTasks"); len(reqs) != 4 {
		t.Errorf("%d pages fetched in all, want 4 (one for the loop that stopped at once)", len(reqs))
	}
}

func TestToolsAreConverted(t *testing.T) {
	f := &fake{listTools: func(context.Context, int) (*pb.ListToolsResponse, error) {
		return &pb.ListToolsResponse{Tools: []*pb.ToolInfo{{
			Name: "sleep", Description: "Waits.", ParametersJsonSchema: `{"type":"object"}`,
			DefaultTimeoutSeconds: 10, HardTimeoutSeconds: 3600, Source: "example",
		}}}, nil
	}}
	tools, err := serve(t, f).Tools(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 1 || tools[0].Name != "sleep" || string(tools[0].Parameters) != `{"type":"object"}` ||
		tools[0].DefaultBudget != 10*time.Second || tools[0].HardTimeout != time.Hour || tools[0].Source != "example" {
		t.Errorf("tools = %+v", tools)
	}
}

func TestServerInfoIsConverted(t *testing.T) {
	f := &fake{serverInfo: func(context.Context, int) (*pb.GetServerInfoResponse, error) {
		return &pb.GetServerInfoResponse{Version: "0.2.0", ApiPackages: []string{"taskmanager.v1"}}, nil
	}}
	info, err := serve(t, f).ServerInfo(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "0.2.0" || !slices.Equal(info.APIPackages, []string{"taskmanager.v1"}) {
		t.Errorf("server info = %+v", info)
	}

	// A server from before GetServerInfo answers UNIMPLEMENTED, at once.
	old := &fake{serverInfo: func(context.Context, int) (*pb.GetServerInfoResponse, error) {
		return nil, status.Error(codes.Unimplemented, "unknown method GetServerInfo for service taskmanager.v1.TaskService")
	}}
	if _, err := serve(t, old).ServerInfo(ctxFor(t)); !errors.Is(err, taskservice.ErrUnimplemented) {
		t.Errorf("err = %v, want ErrUnimplemented", err)
	}
	if n := old.count("GetServerInfo"); n != 1 {
		t.Errorf("%d attempts, want 1 (UNIMPLEMENTED is not retried)", n)
	}
}

func TestCloseLeavesAConnectionGivenToNewOpen(t *testing.T) {
	conn, err := grpc.NewClient("passthrough:///unused", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := taskservice.New(conn)
	if err := client.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if s := conn.GetState(); s == connectivity.Shutdown {
		t.Error("Close closed a connection the caller owns")
	}
}
