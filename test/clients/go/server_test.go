package clients_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

const (
	startupTimeout = 20 * time.Second
	// The contract promises a clean exit within a few seconds of SIGTERM;
	// SIGKILL only comes later so a slow exit is measured, not masked.
	cleanExitWithin     = 5 * time.Second
	shutdownGrace       = 10 * time.Second
	channelReadyTimeout = 10 * time.Second
	outputTailLines     = 60
)

// client is shared by every test; TestMain owns the server behind it, at
// serverAddr.
var (
	client     pb.TaskServiceClient
	serverAddr string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run returns the exit code so that the server is always stopped before
// os.Exit. Any startup problem returns 1: a server that does not come up must
// fail the suite, never skip it.
func run(m *testing.M) int {
	srv, err := startServer()
	if err != nil {
		fmt.Fprintf(os.Stderr, "TaskService did not start: %v\n", err)
		return 1
	}

	conn, err := dial(srv.addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "TaskService did not accept a gRPC connection: %v\n%s", err, srv.outputTail())
		_ = srv.stop()
		return 1
	}
	client = pb.NewTaskServiceClient(conn)
	serverAddr = srv.addr

	code := m.Run()

	// Closing first is what a real client does; the server has to cope with a
	// connection going away while it shuts down.
	_ = conn.Close()
	if problem := srv.stop().problem(); problem != "" {
		fmt.Fprintf(os.Stderr, "FAIL: %s\n", problem)
		code = 1
	}
	if code != 0 {
		// Server logs are the first thing needed to understand a failure.
		fmt.Fprint(os.Stderr, srv.outputTail())
	}
	return code
}

func dial(addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), channelReadyTimeout)
	defer cancel()
	conn.Connect()
	for state := conn.GetState(); state != connectivity.Ready; state = conn.GetState() {
		if !conn.WaitForStateChange(ctx, state) {
			_ = conn.Close()
			return nil, fmt.Errorf("still %s after %s", state, channelReadyTimeout)
		}
	}
	return conn, nil
}

// serverProcess is the TypeScript server as a child process. Its stdout and
// stderr go to lineWriters, so both pipes are drained for the whole run: pino
// logs every request, and a full pipe would block the server mid-write.
type serverProcess struct {
	cmd     *exec.Cmd
	stdout  *lineWriter
	stderr  *lineWriter
	addr    string
	exited  chan struct{}
	waitErr error
}

// startServer starts the server with the in-memory store on a free loopback
// port; env entries ("NAME=value") are added to its environment.
func startServer(env ...string) (*serverProcess, error) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "package.json")); err != nil {
		return nil, fmt.Errorf("repository root not found at %s: %w", root, err)
	}

	listening := make(chan string, 1)
	srv := &serverProcess{exited: make(chan struct{})}
	srv.stdout = newLineWriter(func(line string) {
		var record struct {
			Msg     string `json:"msg"`
			Address string `json:"address"`
		}
		// Non-JSON lines (node or tsx notices) are kept for diagnostics only.
		if json.Unmarshal([]byte(line), &record) == nil && record.Msg == "listening" {
			select {
			case listening <- record.Address:
			default:
			}
		}
	})
	srv.stderr = newLineWriter(nil)

	cmd := exec.Command("node", "--import", "tsx", "src/main.ts")
	cmd.Dir = root
	// Later entries win, so these override anything inherited.
	cmd.Env = append(append(os.Environ(), "TASKSERVICE_ADDR=127.0.0.1:0", "TASKSERVICE_LOG_LEVEL=info"), env...)
	cmd.Stdout = srv.stdout
	cmd.Stderr = srv.stderr
	// Wait also waits for the output copiers; bound that in case something the
	// server spawned keeps the pipes open after it exits.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("could not launch node: %w", err)
	}
	srv.cmd = cmd
	go func() {
		srv.waitErr = cmd.Wait()
		close(srv.exited)
	}()

	select {
	case address := <-listening:
		_, port, err := net.SplitHostPort(address)
		if err != nil || port == "" || port == "0" {
			_ = srv.stop()
			return nil, fmt.Errorf("\"listening\" log line has no usable address %q\n%s", address, srv.outputTail())
		}
		// TASKSERVICE_ADDR pinned the host; only the port is chosen by the server.
		srv.addr = net.JoinHostPort("127.0.0.1", port)
		return srv, nil
	case <-srv.exited:
		return nil, fmt.Errorf("server exited (%v) before logging \"listening\"\n%s", srv.waitErr, srv.outputTail())
	case <-time.After(startupTimeout):
		_ = srv.stop()
		return nil, fmt.Errorf("server did not log \"listening\" within %s\n%s", startupTimeout, srv.outputTail())
	}
}

// startTestServer starts a server of the test's own (with env added to its
// environment, e.g. tokens or platforms) and stops it when the test ends,
// failing the test if it does not shut down cleanly.
func startTestServer(t *testing.T, env ...string) *serverProcess {
	t.Helper()
	srv, err := startServer(env...)
	if err != nil {
		t.Fatalf("a second TaskService did not start: %v", err)
	}
	t.Cleanup(func() {
		if problem := srv.stop().problem(); problem != "" {
			t.Errorf("%s\n%s", problem, srv.outputTail())
		}
	})
	return srv
}

type stopResult struct {
	alreadyExited bool
	took          time.Duration
	killed        bool
	err           error // from Wait: nil means exit status 0
}

// problem describes how the shutdown broke the contract, or is empty.
func (r stopResult) problem() string {
	switch {
	case r.alreadyExited:
		return fmt.Sprintf("server had already exited (%v) before SIGTERM", r.err)
	case r.killed:
		return fmt.Sprintf("server was still running %s after SIGTERM and was killed", r.took.Round(time.Millisecond))
	case r.took > cleanExitWithin:
		return fmt.Sprintf("server took %s to exit after SIGTERM, more than %s", r.took.Round(time.Millisecond), cleanExitWithin)
	case r.err != nil:
		return fmt.Sprintf("server did not exit cleanly after SIGTERM: %v", r.err)
	}
	return ""
}

// stop sends SIGTERM and falls back to SIGKILL after the grace period.
func (s *serverProcess) stop() stopResult {
	select {
	case <-s.exited:
		return stopResult{alreadyExited: true, err: s.waitErr}
	default:
	}
	started := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		fmt.Fprintf(os.Stderr, "SIGTERM to server pid %d failed: %v\n", s.cmd.Process.Pid, err)
	}
	select {
	case <-s.exited:
		return stopResult{took: time.Since(started), err: s.waitErr}
	case <-time.After(shutdownGrace):
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(shutdownGrace):
		fmt.Fprintf(os.Stderr, "server pid %d still not reaped after SIGKILL\n", s.cmd.Process.Pid)
	}
	return stopResult{took: time.Since(started), killed: true, err: s.waitErr}
}

func (s *serverProcess) outputTail() string {
	return "--- server stdout (tail) ---\n" + s.stdout.tail() +
		"--- server stderr (tail) ---\n" + s.stderr.tail()
}

// lineWriter splits a stream into lines, hands each to onLine and keeps the
// most recent ones for failure reports.
type lineWriter struct {
	mu      sync.Mutex
	partial strings.Builder
	lines   []string
	onLine  func(string)
}

func newLineWriter(onLine func(string)) *lineWriter {
	return &lineWriter{onLine: onLine}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	var complete []string
	for _, b := range p {
		if b == '\n' {
			complete = append(complete, w.partial.String())
			w.partial.Reset()
			continue
		}
		w.partial.WriteByte(b)
	}
	w.lines = append(w.lines, complete...)
	if extra := len(w.lines) - outputTailLines; extra > 0 {
		w.lines = append([]string(nil), w.lines[extra:]...)
	}
	w.mu.Unlock()
	if w.onLine != nil {
		for _, line := range complete {
			w.onLine(line)
		}
	}
	return len(p), nil
}

func (w *lineWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, line := range w.lines {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if w.partial.Len() > 0 {
		b.WriteString(w.partial.String())
		b.WriteByte('\n')
	}
	return b.String()
}
