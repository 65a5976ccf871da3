// Command listtasks times ListTasks calls from a Go client, for bench
// scenario 5: a Node client's own garbage collection (scavenges of several
// milliseconds) sets the p99 of what it measures, a Go client's much less.
//
// It takes one JSON argument {address, userId, lists, pageSize}, says
// "ready", waits for a "go" line on stdin, makes `lists` calls one at a time
// (following page tokens, back to the first page every 20 calls, as
// bench/load/scale.ts does) and prints {count, p50, p99, max} in ms.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	taskmanagerv1 "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

type config struct {
	Address  string `json:"address"`
	UserID   string `json:"userId"`
	Lists    int    `json:"lists"`
	PageSize int32  `json:"pageSize"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "listtasks:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg config
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: listtasks '<json config>'")
	}
	if err := json.Unmarshal([]byte(os.Args[1]), &cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	conn, err := grpc.NewClient(cfg.Address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := taskmanagerv1.NewTaskServiceClient(conn)

	fmt.Println("ready")
	if !bufio.NewScanner(os.Stdin).Scan() {
		return fmt.Errorf("stdin closed before go")
	}
	latencies := make([]float64, 0, cfg.Lists)
	token := ""
	for i := 0; i < cfg.Lists; i++ {
		if i%20 == 0 {
			token = ""
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		started := time.Now()
		res, err := client.ListTasks(ctx, &taskmanagerv1.ListTasksRequest{UserId: cfg.UserID, PageSize: cfg.PageSize, PageToken: token})
		elapsed := time.Since(started)
		cancel()
		if err != nil {
			return fmt.Errorf("ListTasks: %w", err)
		}
		if int32(len(res.Tasks)) != cfg.PageSize {
			return fmt.Errorf("a page of %d tasks, expected %d", len(res.Tasks), cfg.PageSize)
		}
		token = res.NextPageToken
		latencies = append(latencies, float64(elapsed.Nanoseconds())/1e6)
	}
	sort.Float64s(latencies)
	at := func(q float64) float64 { return latencies[int(q*float64(len(latencies)-1))] }
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"count": len(latencies), "p50": at(0.5), "p99": at(0.99), "max": latencies[len(latencies)-1],
	})
}
