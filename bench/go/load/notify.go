package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	taskmanagerv1 "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// notifyLoad: bench/load/notify.ts, scenario 3: how long after a tool
// settles its watchers hear of it. Starts `tasks` tasks at
// `tasksPerSecond` on `execAddress` (the settle_stamp tool: it returns the
// epoch time at which it settled), opens `watchers` AwaitResult streams per
// task on `awaitAddress` (the same replica or another one), and records,
// per terminal update, the time it arrived minus the time the tool
// settled. Same machine, same clock. A stream whose first message is
// already terminal opened after the settle: it counts in missedSettle, not
// as a latency.
func notifyLoad(cfg *config) (load, error) {
	if cfg.Tasks <= 0 || cfg.TasksPerSecond <= 0 || cfg.Watchers < 0 {
		return load{}, fmt.Errorf("config: notify needs execAddress, awaitAddress, tasks, tasksPerSecond, watchers and toolMs")
	}
	execConn, err := dial(cfg.ExecAddress)
	if err != nil {
		return load{}, err
	}
	watchConn := execConn
	if cfg.AwaitAddress != cfg.ExecAddress {
		if watchConn, err = dial(cfg.AwaitAddress); err != nil {
			return load{}, err
		}
	}
	n := &notifier{
		exec:  taskmanagerv1.NewTaskServiceClient(execConn),
		watch: taskmanagerv1.NewTaskServiceClient(watchConn),
		request: &taskmanagerv1.ExecuteRequest{
			ToolName:       "settle_stamp",
			ArgumentsJson:  `{"ms":` + strconv.FormatFloat(cfg.ToolMs, 'g', -1, 64) + `}`,
			UserId:         "notify-" + strconv.Itoa(os.Getpid()),
			TimeoutSeconds: seconds(0.001),
		},
		watchers: int(cfg.Watchers),
		interval: time.Duration(float64(time.Second) / cfg.TasksPerSecond),
	}
	var missedSettle int64
	return load{
		warmUp: func() error {
			n.paced(ops(min(50, cfg.Tasks)), nil)
			return nil
		},
		run: func(rec *recorder) error {
			n.paced(ops(cfg.Tasks), rec)
			for i, ms := range rec.ms {
				if math.IsInf(ms, 1) {
					missedSettle++
					rec.ms[i] = math.NaN()
				}
			}
			return nil
		},
		counts: func() []extra { return []extra{{"missedSettle", missedSettle}} },
	}, nil
}

type notifier struct {
	exec, watch taskmanagerv1.TaskServiceClient
	request     *taskmanagerv1.ExecuteRequest
	watchers    int
	interval    time.Duration
}

// paced starts tasks at the configured rate (an open loop: a slow answer
// does not slow the starts) and waits for all of them. Task i's watcher w
// records into rec.ms[i*watchers+w]: a latency, or +Inf when it missed the
// settle.
func (n *notifier) paced(tasks int, rec *recorder) {
	if rec != nil {
		rec.reset(tasks * n.watchers)
	}
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < tasks; i++ {
		due := t0.Add(time.Duration(i) * n.interval)
		if wait := time.Until(due); wait > time.Millisecond {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var heard []float64
			if rec != nil {
				heard = rec.ms[i*n.watchers : (i+1)*n.watchers]
			}
			if err := n.one(heard); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
}

// one starts a task, then follows it with `watchers` streams; heard (nil:
// not recorded) gets each one's latency.
func (n *notifier) one(heard []float64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	res, err := n.exec.Execute(ctx, n.request)
	cancel()
	if err != nil {
		return fmt.Errorf("Execute: %w", err)
	}
	if !res.GetBackgrounded() {
		return fmt.Errorf("settle_stamp was not backgrounded")
	}
	taskID := res.GetTask().GetTaskId()
	var wg sync.WaitGroup
	errs := make([]error, n.watchers)
	for w := 0; w < n.watchers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms, err := n.terminalLatency(taskID)
			if heard != nil {
				heard[w] = ms
			}
			errs[w] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// terminalLatency: the notification latency (ms) of one AwaitResult
// stream, or +Inf when the stream opened after the tool settled.
func (n *notifier) terminalLatency(taskID string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	stream, err := n.watch.AwaitResult(ctx, &taskmanagerv1.AwaitResultRequest{
		TaskId: taskID, UserId: n.request.UserId, TimeoutSeconds: seconds(30),
	})
	if err != nil {
		return 0, fmt.Errorf("AwaitResult: %w", err)
	}
	for first := true; ; first = false {
		update, err := next(stream, "AwaitResult")
		at := epochMs()
		if err != nil {
			return 0, err
		}
		if update.GetKind() != taskmanagerv1.UpdateKind_UPDATE_KIND_TERMINAL {
			continue
		}
		if first {
			return math.Inf(1), drain(stream, "AwaitResult")
		}
		settled, err := strconv.ParseFloat(update.GetTask().GetResult(), 64)
		if err != nil {
			return 0, fmt.Errorf("settle_stamp result %q: %w", update.GetTask().GetResult(), err)
		}
		return at - settled, drain(stream, "AwaitResult")
	}
}
