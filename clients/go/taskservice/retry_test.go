package taskservice_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

// unavailableFor answers UNAVAILABLE for the first n attempts, then ok.
func unavailableFor[Req, Res any](n int, ok Res) func(context.Context, int, Req) (Res, error) {
	return func(_ context.Context, attempt int, _ Req) (Res, error) {
		if attempt <= n {
			var zero Res
			return zero, status.Error(codes.Unavailable, "the server is shutting down; retry on another replica")
		}
		return ok, nil
	}
}

// failing answers every attempt with code.
func failing[Req, Res any](code codes.Code) func(context.Context, int, Req) (Res, error) {
	return func(context.Context, int, Req) (Res, error) {
		var zero Res
		return zero, status.Error(code, "scripted "+code.String())
	}
}

// idempotentCalls are the calls retried on UNAVAILABLE, each with the method
// the fake counts and a fake that fails it `failures` times first.
func idempotentCalls(failures int) []struct {
	method string
	fake   *fake
	call   func(context.Context, *taskservice.Client) error
} {
	task := running("t1")
	return []struct {
		method string
		fake   *fake
		call   func(context.Context, *taskservice.Client) error
	}{
		{"GetResult", &fake{getResult: unavailableFor[*pb.GetResultRequest](failures, &pb.GetResultResponse{Task: task})},
			func(ctx context.Context, c *taskservice.Client) error { _, err := c.Get(ctx, "t1"); return err }},
		{"ListTasks", &fake{listTasks: unavailableFor[*pb.ListTasksRequest](failures, &pb.ListTasksResponse{})},
			func(ctx context.Context, c *taskservice.Client) error { _, err := c.ListPage(ctx, ""); return err }},
		{"ListTools", &fake{listTools: func(ctx context.Context, n int) (*pb.ListToolsResponse, error) {
			return unavailableFor[any](failures, &pb.ListToolsResponse{})(ctx, n, nil)
		}},
			func(ctx context.Context, c *taskservice.Client) error { _, err := c.Tools(ctx); return err }},
		{"GetServerInfo", &fake{serverInfo: func(ctx context.Context, n int) (*pb.GetServerInfoResponse, error) {
			return unavailableFor[any](failures, &pb.GetServerInfoResponse{})(ctx, n, nil)
		}},
			func(ctx context.Context, c *taskservice.Client) error { _, err := c.ServerInfo(ctx); return err }},
		{"CancelTask", &fake{cancelTask: unavailableFor[*pb.CancelTaskRequest](failures, &pb.CancelTaskResponse{Task: task})},
			func(ctx context.Context, c *taskservice.Client) error { _, err := c.Cancel(ctx, "t1"); return err }},
		{"SetOutputRedirect", &fake{setRedirect: unavailableFor[*pb.SetOutputRedirectRequest](failures, &pb.SetOutputRedirectResponse{Task: task})},
			func(ctx context.Context, c *taskservice.Client) error {
				_, err := c.Redirect(ctx, "t1", taskservice.Target{Platform: "chat", ChannelID: "C1"})
				return err
			}},
		{"Execute", &fake{execute: unavailableFor[*pb.ExecuteRequest](failures, &pb.ExecuteResponse{Task: task})},
			func(ctx context.Context, c *taskservice.Client) error {
				_, err := c.Execute(ctx, "sleep", nil, taskservice.WithRequestID("call-1"))
				return err
			}},
	}
}

func TestIdempotentCallsAreRetriedOnUnavailableUntilTheySucceed(t *testing.T) {
	for _, tc := range idempotentCalls(2) {
		t.Run(tc.method, func(t *testing.T) {
			client := serve(t, tc.fake)
			if err := tc.call(ctxFor(t), client); err != nil {
				t.Fatalf("err = %v after %d attempts", err, tc.fake.count(tc.method))
			}
			if n := tc.fake.count(tc.method); n != 3 {
				t.Errorf("%d attempts, want 3 (two UNAVAILABLE, then ok)", n)
			}
		})
	}
}

func TestRetriesStopAfterMaxAttempts(t *testing.T) {
	for _, tc := range idempotentCalls(1000) {
		t.Run(tc.method, func(t *testing.T) {
			policy := fastRetry
			policy.MaxAttempts = 4
			client := serve(t, tc.fake, taskservice.WithRetry(policy))
			err := tc.call(ctxFor(t), client)
			if !errors.Is(err, taskservice.ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", err)
			}
			if n := tc.fake.count(tc.method); n != 4 {
				t.Errorf("%d attempts, want 4", n)
			}
		})
	}
}

func TestNoRetryMakesOneAttempt(t *testing.T) {
	f := &fake{getResult: unavailableFor[*pb.GetResultRequest](1, &pb.GetResultResponse{})}
	client := serve(t, f, taskservice.WithRetry(taskservice.NoRetry))
	if _, err := client.Get(ctxFor(t), "t1"); !errors.Is(err, taskservice.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if n := f.count("GetResult"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestOnlyUnavailableIsRetried(t *testing.T) {
	for _, code := range []codes.Code{codes.NotFound, codes.InvalidArgument, codes.ResourceExhausted, codes.Internal, codes.Unknown, codes.Aborted} {
		t.Run(code.String(), func(t *testing.T) {
			f := &fake{getResult: failing[*pb.GetResultRequest, *pb.GetResultResponse](code)}
			client := serve(t, f)
			if _, err := client.Get(ctxFor(t), "t1"); status.Code(err) != code {
				t.Errorf("err = %v, want %s", err, code)
			}
			if n := f.count("GetResult"); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
		})
	}
}

func TestExecuteWithoutARequestIDIsNeverRetried(t *testing.T) {
	// A retry could run the tool twice: the server de-duplicates only by request id.
	f := &fake{execute: unavailableFor[*pb.ExecuteRequest](1, &pb.ExecuteResponse{})}
	client := serve(t, f)
	if _, err := client.Execute(ctxFor(t), "sleep", map[string]any{"seconds": 1}); !errors.Is(err, taskservice.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if n := f.count("Execute"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestRetriesKeepTheRequestID(t *testing.T) {
	f := &fake{execute: unavailableFor[*pb.ExecuteRequest](2, &pb.ExecuteResponse{Task: running("t1"), Backgrounded: true})}
	client := serve(t, f)
	if _, err := client.Execute(ctxFor(t), "sleep", nil, taskservice.WithRequestID("call-7"), taskservice.WithUser("alice")); err != nil {
		t.Fatal(err)
	}
	reqs, _ := f.received("Execute")
	for i, r := range reqs {
		if r := r.(*pb.ExecuteRequest); r.GetRequestId() != "call-7" || r.GetUserId() != "alice" {
			t.Errorf("attempt %d sent request_id %q user %q", i+1, r.GetRequestId(), r.GetUserId())
		}
	}
}

func TestTheRetryWaitEndsWithTheContext(t *testing.T) {
	f := &fake{getResult: unavailableFor[*pb.GetResultRequest](1000, &pb.GetResultResponse{})}
	client := serve(t, f, taskservice.WithRetry(taskservice.RetryPolicy{MaxAttempts: 10, InitialBackoff: 10 * time.Second}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)

	started := time.Now()
	_, err := client.Get(ctx, "t1")
	if took := time.Since(started); took > time.Second {
		t.Errorf("Get took %s after its context was cancelled at 100 ms", took)
	}
	if !errors.Is(err, context.Canceled) || status.Code(err) != codes.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := f.count("GetResult"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestNoRetryStartsPastTheContextDeadline(t *testing.T) {
	f := &fake{getResult: unavailableFor[*pb.GetResultRequest](1000, &pb.GetResultResponse{})}
	client := serve(t, f, taskservice.WithRetry(taskservice.RetryPolicy{MaxAttempts: 10, InitialBackoff: 2 * time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()

	started := time.Now()
	_, err := client.Get(ctx, "t1")
	// The first wait (1-2 s) would end past the deadline: give up at once
	// with what the server said, rather than sleep into DeadlineExceeded.
	if took := time.Since(started); took > 300*time.Millisecond {
		t.Errorf("Get took %s", took)
	}
	if !errors.Is(err, taskservice.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

func TestRetriesStopAfterMaxElapsed(t *testing.T) {
	f := &fake{getResult: unavailableFor[*pb.GetResultRequest](1000, &pb.GetResultResponse{})}
	policy := taskservice.RetryPolicy{MaxAttempts: 1000, InitialBackoff: 40 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxElapsed: 300 * time.Millisecond}
	client := serve(t, f, taskservice.WithRetry(policy))

	started := time.Now()
	_, err := client.Get(ctxFor(t), "t1")
	took := time.Since(started)
	if !errors.Is(err, taskservice.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	// Waits of 20-40 ms: at most 15 of them fit in 300 ms (fewer when the
	// machine is slow; but more than a couple).
	if n := f.count("GetResult"); n < 4 || n > 16 {
		t.Errorf("%d attempts in %s, want 4-16", n, took)
	}
	if took > 600*time.Millisecond {
		t.Errorf("took %s with MaxElapsed 300 ms", took)
	}
}
