// Command load is the bench's load generator in Go: the same work as the
// Node scripts bench/load/unary.ts, bench/load/lifecycle.ts and
// bench/load/notify.ts, from a client that spends little CPU of its own (on
// a 2-core machine a Node client saturates before the Node server does, so
// server figures come from this one).
//
// It takes one JSON argument whose "mode" picks the load:
//
//	unary     {address, calls, inFlight, tool}: inline Execute calls
//	stream    {address, count, inFlight, toolMs}: background lifecycles through one ExecuteStream
//	two-call  {address, count, inFlight, toolMs}: background lifecycles through Execute + AwaitResult
//	notify    {execAddress, awaitAddress, tasks, tasksPerSecond, watchers, toolMs}: settle -> terminal update
//
// As every load script (bench/lib/drive.ts measureRun): it connects, warms
// up, says "ready", waits for a line on stdin, runs, and prints one JSON
// line {latencies (ms), extra counts, seconds, cpuSeconds}. Any error ends
// it with a message on stderr and exit status 1.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

type config struct {
	Mode string `json:"mode"`
	// unary, stream, two-call
	Address  string  `json:"address"`
	InFlight float64 `json:"inFlight"`
	// unary
	Calls float64 `json:"calls"`
	Tool  string  `json:"tool"`
	// stream, two-call
	Count float64 `json:"count"`
	// stream, two-call, notify
	ToolMs float64 `json:"toolMs"`
	// notify
	ExecAddress    string  `json:"execAddress"`
	AwaitAddress   string  `json:"awaitAddress"`
	Tasks          float64 `json:"tasks"`
	TasksPerSecond float64 `json:"tasksPerSecond"`
	Watchers       float64 `json:"watchers"`
}

// A load: warmUp runs before "ready"; run is the measured part, recording
// into rec; counts are the extra numbers of the result line.
type load struct {
	warmUp func() error
	run    func(rec *recorder) error
	counts func() []extra
}

type extra struct {
	name  string
	value int64
}

func main() {
	if err := run(); err != nil {
		fail(err)
	}
}

var failOnce sync.Once

// fail ends the process at the first error, from any goroutine (as an
// unhandled rejection ends a Node load script).
func fail(err error) {
	failOnce.Do(func() {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	})
	select {} // another goroutine is exiting
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: load '<json config>'")
	}
	var cfg config
	if err := json.Unmarshal([]byte(os.Args[1]), &cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var l load
	var err error
	switch cfg.Mode {
	case "unary":
		l, err = unaryLoad(&cfg)
	case "stream", "two-call":
		l, err = lifecycleLoad(&cfg)
	case "notify":
		l, err = notifyLoad(&cfg)
	default:
		return fmt.Errorf(`config: mode %q, expected "unary", "stream", "two-call" or "notify"`, cfg.Mode)
	}
	if err != nil {
		return err
	}
	return measureRun(l)
}

// measureRun: warm up, say ready, wait for go, run, print the result line.
func measureRun(l load) error {
	if err := l.warmUp(); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if _, err := os.Stdout.WriteString("ready\n"); err != nil {
		return err
	}
	if !bufio.NewScanner(os.Stdin).Scan() {
		return fmt.Errorf("stdin closed before go")
	}
	rec := &recorder{}
	cpu0, t0 := cpuSeconds(), time.Now()
	if err := l.run(rec); err != nil {
		return err
	}
	seconds := time.Since(t0).Seconds()
	cpu := cpuSeconds() - cpu0

	// {"latencies":[...], counts..., "seconds":s, "cpuSeconds":c}: the key order of the Node scripts.
	out := make([]byte, 0, 32*len(rec.ms)+256)
	out = append(out, `{"latencies":[`...)
	first := true
	for _, ms := range rec.ms {
		if math.IsNaN(ms) {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = strconv.AppendFloat(out, ms, 'g', -1, 64)
	}
	out = append(out, ']')
	if l.counts != nil {
		for _, c := range l.counts() {
			out = append(out, `,"`...)
			out = append(out, c.name...)
			out = append(out, `":`...)
			out = strconv.AppendInt(out, c.value, 10)
		}
	}
	out = append(out, `,"seconds":`...)
	out = strconv.AppendFloat(out, seconds, 'g', -1, 64)
	out = append(out, `,"cpuSeconds":`...)
	out = strconv.AppendFloat(out, cpu, 'g', -1, 64)
	out = append(out, "}\n"...)
	_, err := os.Stdout.Write(out)
	return err
}

// recorder holds a run's latencies (ms), one slot per operation, allocated
// before the run; NaN marks an operation that does not count.
type recorder struct {
	ms []float64
}

func (r *recorder) reset(n int) {
	r.ms = make([]float64, n)
	for i := range r.ms {
		r.ms[i] = math.NaN()
	}
}

// An operation returns when it ended (its answer or terminal update came
// in; it may still finish reading a stream after that), or the zero time
// when it does not count (a lifecycle answered inline).
type operation func() (time.Time, error)

// drive runs total operations, inFlight at a time, as bench/lib/drive.ts
// does: workers share one counter up to the total. The latency of each
// operation that counts (sent -> ended) goes into rec (nil: not recorded).
func drive(total, inFlight int, op operation, rec *recorder) {
	if rec != nil {
		rec.reset(total)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				t0 := time.Now()
				ended, err := op()
				if err != nil {
					fail(err)
				}
				if !ended.IsZero() && rec != nil {
					rec.ms[i] = float64(ended.Sub(t0).Nanoseconds()) / 1e6
				}
			}
		}()
	}
	wg.Wait()
}

// ops: how many operations a JS loop `while (next < n) next++` makes: n rounded up.
func ops(n float64) int {
	return int(math.Ceil(n))
}

// dial makes one connection (HTTP/2, every call multiplexed on it), as one grpc-js client does.
func dial(address string) (*grpc.ClientConn, error) {
	if address == "" {
		return nil, fmt.Errorf("config: no address")
	}
	return grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// cpuSeconds is the CPU (user + system) this process has used so far.
func cpuSeconds() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}

// epochMs is the wall clock in epoch milliseconds, fractional (Node's performance.timeOrigin + performance.now()).
func epochMs() float64 {
	return float64(time.Now().UnixNano()) / 1e6
}

// seconds: a value for an optional seconds field of a request.
func seconds(s float64) *float64 {
	return &s
}
