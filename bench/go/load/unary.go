package main

import (
	"context"
	"fmt"
	"time"

	taskmanagerv1 "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// unaryLoad: bench/load/unary.ts. `calls` inline Execute calls of `tool`,
// `inFlight` at a time, each answered inline with its text.
func unaryLoad(cfg *config) (load, error) {
	if cfg.Tool == "" || cfg.Calls <= 0 || cfg.InFlight < 1 {
		return load{}, fmt.Errorf("config: unary needs address, calls, inFlight and tool")
	}
	conn, err := dial(cfg.Address)
	if err != nil {
		return load{}, err
	}
	client := taskmanagerv1.NewTaskServiceClient(conn)
	// One request for every call: marshalling only reads it.
	request := &taskmanagerv1.ExecuteRequest{
		ToolName:       cfg.Tool,
		ArgumentsJson:  `{"text":"hello"}`,
		UserId:         "bench",
		TimeoutSeconds: seconds(5),
	}
	once := func() (time.Time, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := client.Execute(ctx, request)
		ended := time.Now()
		cancel()
		if err != nil {
			return time.Time{}, fmt.Errorf("Execute: %w", err)
		}
		if res.GetBackgrounded() || res.GetText() != "hello" {
			return time.Time{}, fmt.Errorf("unexpected answer: %s", res.String())
		}
		return ended, nil
	}
	calls, inFlight := ops(cfg.Calls), int(cfg.InFlight)
	return load{
		// Warm-up: connection, pools, the server's JIT.
		warmUp: func() error {
			drive(ops(min(2000, max(200, cfg.Calls/5))), inFlight, once, nil)
			return nil
		},
		run: func(rec *recorder) error {
			drive(calls, inFlight, once, rec)
			return nil
		},
	}, nil
}
