// Command listtasks times ListTasks calls from a Go client, for bench
// scenario 5: a Node client's own garbage collection (scavenges of several
// milliseconds) sets the p99 of what it measures, a Go client's much less.
//
// It takes one JSON argument {address, userId, lists, pageSize, resetEvery},
// says "ready", waits for a "go" line on stdin, makes `lists` calls one at a
// time (following page tokens, back to the first page every `resetEvery`
// calls, 20 when absent, as bench/load/scale.ts does) and prints {count, p50,
// p99, max} in ms.
//
// With resetEvery 0 (bench/shards.ts) it walks the whole listing, page after
// page to the last (which may be short), and then starts over; it also
// reports the first complete walk: how many tasks it returned and how many
// distinct ids among them (a listing that repeats or skips a task shows here).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"syscall"
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
	// ResetEvery: back to the first page every this many calls; 0: only after the last page. Absent: 20.
	ResetEvery *int `json:"resetEvery"`
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
	resetEvery := 20
	if cfg.ResetEvery != nil {
		resetEvery = *cfg.ResetEvery
	}
	latencies := make([]float64, 0, cfg.Lists)
	token := ""
	// The first complete walk (resetEvery 0): tasks returned, and their distinct ids.
	walks, walkTasks := 0, 0
	firstWalkTasks, firstWalkDistinct := -1, -1
	seen := map[string]struct{}{}
	cpu0, started := cpuSeconds(), time.Now()
	for i := 0; i < cfg.Lists; i++ {
		if resetEvery > 0 && i%resetEvery == 0 {
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
		last := resetEvery == 0 && res.NextPageToken == ""
		if int32(len(res.Tasks)) != cfg.PageSize && !(last && int32(len(res.Tasks)) < cfg.PageSize) {
			return fmt.Errorf("a page of %d tasks, expected %d", len(res.Tasks), cfg.PageSize)
		}
		if resetEvery == 0 && walks == 0 {
			walkTasks += len(res.Tasks)
			for _, t := range res.Tasks {
				seen[t.TaskId] = struct{}{}
			}
		}
		if last {
			if walks == 0 {
				firstWalkTasks, firstWalkDistinct = walkTasks, len(seen)
			}
			walks++
		}
		token = res.NextPageToken
		latencies = append(latencies, float64(elapsed.Nanoseconds())/1e6)
	}
	cpu := cpuSeconds() - cpu0
	sort.Float64s(latencies)
	at := func(q float64) float64 { return latencies[int(q*float64(len(latencies)-1))] }
	out := map[string]any{"count": len(latencies), "p50": at(0.5), "p99": at(0.99), "max": latencies[len(latencies)-1]}
	if resetEvery == 0 {
		out["walks"], out["firstWalkTasks"], out["firstWalkDistinct"] = walks, firstWalkTasks, firstWalkDistinct
		out["cpuSeconds"], out["seconds"] = cpu, time.Since(started).Seconds()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// cpuSeconds is the CPU (user + system) this process has used so far.
func cpuSeconds() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}
