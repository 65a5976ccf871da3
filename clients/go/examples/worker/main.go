// Command worker is an example TaskService tool worker hosting two tools:
// word_count, which answers at once, and slow_count, which counts to a
// number slowly, reporting progress and stopping as soon as it is cancelled.
//
//	go run ./examples/worker -addr 127.0.0.1:50051
//
// It stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/taskservice/taskservice/clients/go/worker"
)

type wordCountArgs struct {
	Text string `json:"text"`
}

type slowCountArgs struct {
	To int `json:"to"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "TaskService gRPC address (host:port)")
	name := flag.String("name", "go-example", "worker name shown in the server's logs")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *name, logger); err != nil {
		logger.Error("worker failed", "error", err)
		os.Exit(1)
	}
}

func run(addr, name string, logger *slog.Logger) error {
	w := worker.New(worker.Options{
		Name:   name,
		Logger: logger,
		OnRegistered: func(id string) {
			logger.Info("ready", "worker_id", id)
		},
	})

	err := w.Register(worker.Func("word_count", "Counts the words in a text.",
		json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}`),
		func(ctx context.Context, call *worker.Call, args wordCountArgs) (any, error) {
			return map[string]int{"words": len(strings.Fields(args.Text))}, nil
		}))
	if err != nil {
		return err
	}

	slow := worker.Func("slow_count", "Counts from 1 to a number, one per second.",
		json.RawMessage(`{"type":"object","properties":{"to":{"type":"integer","minimum":1,"maximum":600}},"required":["to"],"additionalProperties":false}`),
		slowCount)
	slow.Concurrency = 2
	if err := w.Register(slow); err != nil {
		return err
	}

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return w.Run(ctx, conn) // nil once a signal stopped it
}

// slowCount shows the two things a long-running handler owes the server:
// progress, and returning as soon as ctx says the result is not wanted. It
// also writes each number as output, which a caller streams as it comes
// (taskservice: ExecuteStream, or Await with WithOutput).
func slowCount(ctx context.Context, call *worker.Call, args slowCountArgs) (any, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 1; i <= args.To; i++ {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-tick.C:
		}
		call.Output(fmt.Sprintf("%d\n", i))
		call.Progress(float64(i)/float64(args.To), fmt.Sprintf("counted to %d", i))
	}
	return map[string]int{"counted": args.To}, nil
}
