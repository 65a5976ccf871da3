package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	taskmanagerv1 "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc"
)

// lifecycleLoad: bench/load/lifecycle.ts. Background task lifecycles: a
// tool that outlives its budget (so it is backgrounded and stored),
// followed to its terminal update; "two-call" is an Execute and then an
// AwaitResult stream, "stream" one ExecuteStream. `inFlight` at a time,
// `count` in all; latency = call sent -> terminal update received.
func lifecycleLoad(cfg *config) (load, error) {
	if cfg.Count <= 0 || cfg.InFlight < 1 {
		return load{}, fmt.Errorf("config: %s needs address, count, inFlight and toolMs", cfg.Mode)
	}
	conn, err := dial(cfg.Address)
	if err != nil {
		return load{}, err
	}
	client := taskmanagerv1.NewTaskServiceClient(conn)
	request := &taskmanagerv1.ExecuteRequest{
		ToolName:       "wait_ms",
		ArgumentsJson:  `{"ms":` + strconv.FormatFloat(cfg.ToolMs, 'g', -1, 64) + `}`,
		UserId:         "bench-" + strconv.Itoa(os.Getpid()),
		TimeoutSeconds: seconds(0.001),
	}
	l := &lifecycles{client: client, request: request}
	one := l.twoCall
	if cfg.Mode == "stream" {
		one = l.streamed
	}
	count, inFlight := ops(cfg.Count), int(cfg.InFlight)
	return load{
		warmUp: func() error {
			drive(ops(max(100, cfg.Count/10)), inFlight, one, nil)
			return nil
		},
		run: func(rec *recorder) error {
			drive(count, inFlight, one, rec)
			return nil
		},
		// As lifecycle.ts: calls answered inline, warm-up included (none expected: the tool outlives its budget).
		counts: func() []extra {
			if n := l.inline.Load(); n > 0 {
				fmt.Fprintf(os.Stderr, "answered inline %d times, e.g. %s\n", n, l.firstInline)
			}
			return []extra{{"inline", l.inline.Load()}}
		},
	}, nil
}

// none: an operation that does not count.
var none time.Time

type lifecycles struct {
	client  taskmanagerv1.TaskServiceClient
	request *taskmanagerv1.ExecuteRequest
	// Calls answered inline after all, and what the first one said.
	inline      atomic.Int64
	firstOnce   sync.Once
	firstInline string
}

func (l *lifecycles) answeredInline(what string) {
	l.inline.Add(1)
	l.firstOnce.Do(func() { l.firstInline = what })
}

// twoCall: Execute, then AwaitResult to the terminal update.
func (l *lifecycles) twoCall() (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	res, err := l.client.Execute(ctx, l.request)
	cancel()
	if err != nil {
		return none, fmt.Errorf("Execute: %w", err)
	}
	if !res.GetBackgrounded() {
		what, _ := json.Marshal(map[string]any{
			"text": res.GetText(), "status": res.GetTask().GetStatus(), "reason": res.GetTask().GetFailureReason(),
		})
		l.answeredInline(string(what))
		return none, nil
	}
	ctx, cancel = context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream, err := l.client.AwaitResult(ctx, &taskmanagerv1.AwaitResultRequest{
		TaskId: res.GetTask().GetTaskId(), UserId: l.request.UserId, TimeoutSeconds: seconds(10),
	})
	if err != nil {
		return none, fmt.Errorf("AwaitResult: %w", err)
	}
	for {
		update, err := next(stream, "AwaitResult")
		if err != nil {
			return none, err
		}
		if update.GetKind() == taskmanagerv1.UpdateKind_UPDATE_KIND_TERMINAL {
			if update.GetText() != "done" {
				return none, fmt.Errorf("task ended with %s", update.GetText())
			}
			ended := time.Now()
			return ended, drain(stream, "AwaitResult")
		}
	}
}

// streamed: the same lifecycle as one ExecuteStream: the answer (backgrounded), then updates to the terminal one.
func (l *lifecycles) streamed() (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream, err := l.client.ExecuteStream(ctx, l.request)
	if err != nil {
		return none, fmt.Errorf("ExecuteStream: %w", err)
	}
	for {
		msg, err := next(stream, "ExecuteStream")
		if err != nil {
			return none, err
		}
		switch event := msg.GetEvent().(type) {
		case *taskmanagerv1.ExecuteStreamResponse_Answer:
			if !event.Answer.GetBackgrounded() {
				l.answeredInline(event.Answer.GetText())
				return none, drain(stream, "ExecuteStream")
			}
		case *taskmanagerv1.ExecuteStreamResponse_Update:
			if event.Update.GetKind() == taskmanagerv1.UpdateKind_UPDATE_KIND_TERMINAL {
				if event.Update.GetText() != "done" {
					return none, fmt.Errorf("task ended with %s", event.Update.GetText())
				}
				ended := time.Now()
				return ended, drain(stream, "ExecuteStream")
			}
		}
	}
}

// next receives a stream's next message; a stream that ends before its
// terminal update is an error.
func next[T any](stream grpc.ServerStreamingClient[T], method string) (*T, error) {
	msg, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s ended without a terminal update", method)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return msg, nil
}

// drain reads a stream to its end (the server ends it after the terminal
// update), so that it finishes as the server ends it rather than being
// cancelled by the client.
func drain[T any](stream grpc.ServerStreamingClient[T], method string) error {
	for {
		if _, err := stream.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s after the terminal update: %w", method, err)
		}
	}
}
