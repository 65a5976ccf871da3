package e2e_test

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

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/taskservice/taskservice/clients/go/taskservice"
	"github.com/taskservice/taskservice/clients/go/worker"
)

// wait bounds every wait in these tests.
const wait = 10 * time.Second

// maxOutputBytes is the server's TASKSERVICE_MAX_OUTPUT_BYTES.
const maxOutputBytes = 3 << 20

// serverAddr is the server TestMain started; skipReason is why there is
// none, when not inside a checkout.
var serverAddr, skipReason string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run starts the server, runs the tests, stops the server and then checks
// that no goroutine (the client's, the worker's, gRPC's) outlived them. A
// checkout whose server does not start fails the run: only the absence of a
// checkout skips.
func run(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := os.Stat(filepath.Join(root, "src", "main.ts")); err != nil {
		skipReason = "not inside a TaskService checkout (no " + filepath.Join(root, "src", "main.ts") + ")"
		return m.Run()
	}
	srv, err := startServer(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "TaskService did not start: %v\n", err)
		return 1
	}
	serverAddr = srv.addr
	code := m.Run()
	if err := srv.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		code = 1
	}
	if code != 0 {
		fmt.Fprint(os.Stderr, srv.output.tail())
		return code
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: goroutines outlived the tests: %v\n", err)
		return 1
	}
	return 0
}

// server is the TypeScript server as a child process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	output *lines
	exited chan struct{}
	err    error // from Wait, once exited is closed
}

// startServer starts the server with the example tools on a free loopback
// port (its store in memory, unless the environment has a REDIS_URL), and
// returns once it listens.
func startServer(root string) (*server, error) {
	listening := make(chan string, 1)
	srv := &server{exited: make(chan struct{}), output: &lines{onLine: func(line string) {
		var record struct {
			Msg     string `json:"msg"`
			Address string `json:"address"`
		}
		if json.Unmarshal([]byte(line), &record) == nil && record.Msg == "listening" {
			select {
			case listening <- record.Address:
			default:
			}
		}
	}}}
	cmd := exec.Command("node", "--import", "tsx", "src/main.ts")
	cmd.Dir = root
	// Later entries win over inherited ones.
	cmd.Env = append(os.Environ(), "TASKSERVICE_ADDR=127.0.0.1:0", "TASKSERVICE_LOG_LEVEL=info",
		"TASKSERVICE_EXAMPLE_TOOLS=true", "TASKSERVICE_WORKERS=true", "TASKSERVICE_SHUTDOWN_GRACE_SECONDS=1",
		// Above GetResult's 1 MiB a read, so ReadOutput has to read more than once.
		fmt.Sprintf("TASKSERVICE_MAX_OUTPUT_BYTES=%d", maxOutputBytes))
	cmd.Stdout, cmd.Stderr = srv.output, srv.output
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("could not launch node: %w", err)
	}
	srv.cmd = cmd
	go func() {
		srv.err = cmd.Wait()
		close(srv.exited)
	}()
	select {
	case address := <-listening:
		_, port, err := net.SplitHostPort(address)
		if err != nil || port == "0" {
			_ = srv.stop()
			return nil, fmt.Errorf("the \"listening\" line has no usable address %q", address)
		}
		srv.addr = net.JoinHostPort("127.0.0.1", port)
		return srv, nil
	case <-srv.exited:
		return nil, fmt.Errorf("the server exited (%v) before listening\n%s", srv.err, srv.output.tail())
	case <-time.After(30 * time.Second):
		_ = srv.stop()
		return nil, fmt.Errorf("the server did not listen within 30 s\n%s", srv.output.tail())
	}
}

// stop sends SIGTERM, then SIGKILL if the server is still there after 10 s.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
		if s.err != nil {
			return fmt.Errorf("the server did not exit cleanly after SIGTERM: %w", s.err)
		}
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return errors.New("the server was still running 10 s after SIGTERM and was killed")
}

// lines keeps the server's last output lines for failure reports and hands
// each to onLine. Both pipes write here, so it is safe for concurrent use.
type lines struct {
	mu      sync.Mutex
	partial []byte
	kept    []string
	onLine  func(string)
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range p {
		if b != '\n' {
			l.partial = append(l.partial, b)
			continue
		}
		line := string(l.partial)
		l.partial = l.partial[:0]
		l.kept = append(l.kept, line)
		if len(l.kept) > 80 {
			l.kept = l.kept[1:]
		}
		l.onLine(line)
	}
	return len(p), nil
}

func (l *lines) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return "--- server output (tail) ---\n" + strings.Join(l.kept, "\n") + "\n" + string(l.partial) + "\n"
}

// needServer skips the test outside a checkout.
func needServer(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// dialClient is a client of the server, closed when the test ends.
func dialClient(t *testing.T) *taskservice.Client {
	t.Helper()
	needServer(t)
	c, err := taskservice.Dial(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// runningWorker is a worker.Run in progress.
type runningWorker struct {
	cancel context.CancelFunc
	done   chan error
}

// startWorker runs a worker hosting tools against the server until the test
// ends, and returns once the server has registered them.
func startWorker(t *testing.T, tools ...worker.Tool) *runningWorker {
	t.Helper()
	needServer(t)
	conn, err := grpc.NewClient(serverAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	registered := make(chan string, 1)
	w := worker.New(worker.Options{Name: "go-e2e", OnRegistered: func(id string) {
		select {
		case registered <- id:
		default:
		}
	}})
	for _, tool := range tools {
		if err := w.Register(tool); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningWorker{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx, conn) }()
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("worker Run = %v", err)
		}
		_ = conn.Close()
	})
	select {
	case <-registered:
	case err := <-r.done:
		r.done <- err
		t.Fatalf("the worker did not register: %v", err)
	case <-time.After(wait):
		t.Fatal("the worker did not register")
	}
	return r
}

// stop cancels Run and returns what it returned; it may be called again.
func (r *runningWorker) stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(wait):
		return errors.New("Run did not return after its context was cancelled")
	}
}

// recv waits for a value a handler hands the test.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// user is a user id of the test's own, so tests do not see each other's tasks.
func user(t *testing.T) string {
	return "go-e2e-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
}
