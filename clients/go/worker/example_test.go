package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/taskservice/taskservice/clients/go/worker"
)

// A worker hosting one tool, running until SIGINT or SIGTERM. (Compiled, not
// run: it needs a server.)
func Example() {
	type upperArgs struct {
		Text string `json:"text"`
	}
	w := worker.New(worker.Options{Name: "text-tools"})
	err := w.Register(worker.Func("upper", "Upper-cases a text.",
		json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
		func(ctx context.Context, call *worker.Call, args upperArgs) (any, error) {
			return strings.ToUpper(args.Text), nil
		}))
	if err != nil {
		log.Fatal(err)
	}

	conn, err := grpc.NewClient("127.0.0.1:50051", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := w.Run(ctx, conn); err != nil {
		log.Fatal(err)
	}
}

// A handler that tells a user's cancel from a timeout.
func ExampleCancelledError() {
	handler := func(ctx context.Context, call *worker.Call) (any, error) {
		<-ctx.Done()
		var ce *worker.CancelledError
		if errors.As(context.Cause(ctx), &ce) && ce.Reason == pb.FailureReason_FAILURE_REASON_HARD_TIMEOUT {
			log.Printf("task %s ran out of time", call.TaskID)
		}
		return nil, context.Cause(ctx)
	}
	_ = worker.Tool{Name: "wait", Handler: handler}
}

// A tool that asks before it acts: the task waits in INPUT_REQUIRED until
// someone answers with ProvideInput.
func ExampleCall_RequestInput() {
	handler := func(ctx context.Context, call *worker.Call) (any, error) {
		answer, err := call.RequestInput(ctx, "Delete 120 files?", json.RawMessage(
			`{"type":"object","properties":{"confirm":{"type":"boolean"}},"required":["confirm"]}`))
		if err != nil {
			return nil, err // the task ended while waiting, or the question was refused
		}
		if answer["confirm"] != true {
			return "nothing deleted", nil
		}
		return "120 files deleted", nil
	}
	_ = worker.Tool{Name: "cleanup", Handler: handler, InputTimeout: 15 * time.Minute}
}
