package taskservice_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

// TestMain fails the run if any goroutine (the client's, gRPC's or a test's)
// outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait in these tests.
const wait = 5 * time.Second

// fastRetry keeps the retry tests quick: many attempts, short waits.
var fastRetry = taskservice.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, MaxElapsed: wait}

// fake is an in-process TaskService whose answers each test scripts. Every
// handler gets its attempt number (1, 2, ...) per method, and the requests
// and metadata it received are kept.
type fake struct {
	pb.UnimplementedTaskServiceServer

	execute      func(ctx context.Context, n int, req *pb.ExecuteRequest) (*pb.ExecuteResponse, error)
	getResult    func(ctx context.Context, n int, req *pb.GetResultRequest) (*pb.GetResultResponse, error)
	listTasks    func(ctx context.Context, n int, req *pb.ListTasksRequest) (*pb.ListTasksResponse, error)
	cancelTask   func(ctx context.Context, n int, req *pb.CancelTaskRequest) (*pb.CancelTaskResponse, error)
	setRedirect  func(ctx context.Context, n int, req *pb.SetOutputRedirectRequest) (*pb.SetOutputRedirectResponse, error)
	provideInput func(ctx context.Context, n int, req *pb.ProvideInputRequest) (*pb.ProvideInputResponse, error)
	listTools    func(ctx context.Context, n int) (*pb.ListToolsResponse, error)
	serverInfo   func(ctx context.Context, n int) (*pb.GetServerInfoResponse, error)
	awaitResult  func(n int, req *pb.AwaitResultRequest, stream grpc.ServerStreamingServer[pb.AwaitResultResponse]) error
	execStream   func(n int, req *pb.ExecuteRequest, stream grpc.ServerStreamingServer[pb.ExecuteStreamResponse]) error

	mu       sync.Mutex
	attempts map[string]int
	requests map[string][]any
	metadata map[string][]metadata.MD
}

// record counts an attempt of method and keeps what came with it.
func (f *fake) record(ctx context.Context, method string, req any) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.attempts == nil {
		f.attempts, f.requests, f.metadata = map[string]int{}, map[string][]any{}, map[string][]metadata.MD{}
	}
	f.attempts[method]++
	f.requests[method] = append(f.requests[method], req)
	md, _ := metadata.FromIncomingContext(ctx)
	f.metadata[method] = append(f.metadata[method], md)
	return f.attempts[method]
}

func (f *fake) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[method]
}

func (f *fake) received(method string) ([]any, []metadata.MD) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[method], f.metadata[method]
}

func (f *fake) Execute(ctx context.Context, req *pb.ExecuteRequest) (*pb.ExecuteResponse, error) {
	return f.execute(ctx, f.record(ctx, "Execute", req), req)
}

func (f *fake) GetResult(ctx context.Context, req *pb.GetResultRequest) (*pb.GetResultResponse, error) {
	return f.getResult(ctx, f.record(ctx, "GetResult", req), req)
}

func (f *fake) ListTasks(ctx context.Context, req *pb.ListTasksRequest) (*pb.ListTasksResponse, error) {
	return f.listTasks(ctx, f.record(ctx, "ListTasks", req), req)
}

func (f *fake) CancelTask(ctx context.Context, req *pb.CancelTaskRequest) (*pb.CancelTaskResponse, error) {
	return f.cancelTask(ctx, f.record(ctx, "CancelTask", req), req)
}

func (f *fake) SetOutputRedirect(ctx context.Context, req *pb.SetOutputRedirectRequest) (*pb.SetOutputRedirectResponse, error) {
	return f.setRedirect(ctx, f.record(ctx, "SetOutputRedirect", req), req)
}

func (f *fake) ProvideInput(ctx context.Context, req *pb.ProvideInputRequest) (*pb.ProvideInputResponse, error) {
	return f.provideInput(ctx, f.record(ctx, "ProvideInput", req), req)
}

func (f *fake) ListTools(ctx context.Context, req *pb.ListToolsRequest) (*pb.ListToolsResponse, error) {
	return f.listTools(ctx, f.record(ctx, "ListTools", req))
}

func (f *fake) GetServerInfo(ctx context.Context, req *pb.GetServerInfoRequest) (*pb.GetServerInfoResponse, error) {
	return f.serverInfo(ctx, f.record(ctx, "GetServerInfo", req))
}

func (f *fake) AwaitResult(req *pb.AwaitResultRequest, stream grpc.ServerStreamingServer[pb.AwaitResultResponse]) error {
	return f.awaitResult(f.record(stream.Context(), "AwaitResult", req), req, stream)
}

func (f *fake) ExecuteStream(req *pb.ExecuteRequest, stream grpc.ServerStreamingServer[pb.ExecuteStreamResponse]) error {
	return f.execStream(f.record(stream.Context(), "ExecuteStream", req), req, stream)
}

// serve runs f over an in-memory connection and returns a client dialled to
// it (with fastRetry unless opts say otherwise); both stop when the test ends.
func serve(t *testing.T, f *fake, opts ...taskservice.Option) *taskservice.Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	pb.RegisterTaskServiceServer(gs, f)
	go func() { _ = gs.Serve(lis) }()
	dialer := grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })
	opts = append([]taskservice.Option{taskservice.WithRetry(fastRetry), taskservice.WithDialOptions(dialer)}, opts...)
	client, err := taskservice.Dial("passthrough:///fake", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.Close()
		gs.Stop()
	})
	return client
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func running(id string) *pb.Task {
	return &pb.Task{TaskId: id, ToolName: "sleep", Status: pb.TaskStatus_TASK_STATUS_RUNNING}
}

func completed(id, result string) *pb.Task {
	return &pb.Task{TaskId: id, ToolName: "sleep", Status: pb.TaskStatus_TASK_STATUS_COMPLETED, Result: result}
}

// at is task with version v.
func at(task *pb.Task, v uint64) *pb.Task {
	task.Version = v
	return task
}
