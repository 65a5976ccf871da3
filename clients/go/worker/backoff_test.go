package worker

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestBackoffDoublesWithJitterUpToTheCap(t *testing.T) {
	var b backoff
	for round := range 2 {
		want := minBackoff
		for range 10 {
			d := b.delay()
			if d < want/2 || d > want {
				t.Fatalf("round %d: delay %v, want within [%v, %v]", round, d, want/2, want)
			}
			want = min(2*want, maxBackoff)
		}
		b.reset()
	}
}

func TestOnlyConfigurationErrorsEndRun(t *testing.T) {
	final := []codes.Code{codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists,
		codes.Unauthenticated, codes.PermissionDenied, codes.Unimplemented}
	for _, code := range final {
		err := fmt.Errorf("wrapped: %w", status.Error(code, "x"))
		if retryable(err) {
			t.Errorf("%v is retried", code)
		}
	}
	for _, err := range []error{status.Error(codes.Unavailable, "x"), status.Error(codes.Internal, "x"),
		status.Error(codes.DeadlineExceeded, "x"), io.EOF, errServerSilent, errors.New("protocol")} {
		if !retryable(err) {
			t.Errorf("%v ends Run", err)
		}
	}
}

func TestSilenceLimit(t *testing.T) {
	cases := []struct {
		interval, timeout float64
		want              time.Duration
	}{
		{0, 30, 0},
		{5, 0, 15 * time.Second},
		{5, 30, 30 * time.Second},
		{5, 10, 15 * time.Second},
	}
	for _, c := range cases {
		got := silenceLimit(&pb.WorkerRegistered{PingIntervalSeconds: c.interval, TimeoutSeconds: c.timeout})
		if got != c.want {
			t.Errorf("silenceLimit(interval %v, timeout %v) = %v, want %v", c.interval, c.timeout, got, c.want)
		}
	}
}
