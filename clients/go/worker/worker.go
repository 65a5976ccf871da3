package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// Options configure a Worker.
type Options struct {
	// Name appears in the server's logs; it need not be unique. Empty means
	// "<hostname>-<pid>".
	Name string
	// MaxConcurrency caps the invocations running at once on this worker
	// across its tools; 0 means no cap. A negative value makes Run fail.
	MaxConcurrency int
	// Logger receives the worker's connection events and handler failures.
	// Nil discards them.
	Logger *slog.Logger
	// OnRegistered is called with the server-assigned id after every
	// successful registration, including after a reconnect. It runs on the
	// receive path, so it must return quickly.
	OnRegistered func(workerID string)
}

// Worker hosts tools for TaskService. Register the tools, then call Run.
type Worker struct {
	name         string
	maxConc      int
	log          *slog.Logger
	onRegistered func(string)

	mu      sync.Mutex
	tools   []Tool // in registration order, which is the order sent to the server
	running bool
	id      string

	// handlers counts handler goroutines, of every connection, so Run can
	// wait for all of them before it returns.
	handlers sync.WaitGroup
}

// New returns a Worker with no tools.
func New(opts Options) *Worker {
	w := &Worker{
		name:         opts.Name,
		maxConc:      opts.MaxConcurrency,
		log:          opts.Logger,
		onRegistered: opts.OnRegistered,
	}
	if w.name == "" {
		host, _ := os.Hostname()
		w.name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w
}

// ErrRunning is returned by Register and Run while Run is running: the tools
// are declared once per connection and cannot change under it.
var ErrRunning = errors.New("worker: already running")

// Register adds a tool. It checks what the server would otherwise refuse at
// connect time (the name, a duplicate, the limits), so a mistake is reported
// where it is made.
func (w *Worker) Register(t Tool) error {
	if err := t.validate(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		return fmt.Errorf("worker: register tool %q: %w", t.Name, ErrRunning)
	}
	for _, have := range w.tools {
		if have.Name == t.Name {
			return fmt.Errorf("worker: tool %q is already registered", t.Name)
		}
	}
	w.tools = append(w.tools, t)
	return nil
}

// WorkerID is the id the server assigned to the current connection, or ""
// while the worker is not registered (before Run, between reconnects, after
// Run returned).
func (w *Worker) WorkerID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.id
}

func (w *Worker) setID(id string) {
	w.mu.Lock()
	w.id = id
	w.mu.Unlock()
}
