package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/worker"
)

func nop(context.Context, *worker.Call) (any, error) { return nil, nil }

func TestRegisterChecksTheName(t *testing.T) {
	valid := []string{"a", "echo", "go_sleep2", "a" + strings.Repeat("b", 63)}
	invalid := []string{"", "Echo", "2echo", "_echo", "echo-1", "echo.x", "é", "a" + strings.Repeat("b", 64)}
	for _, name := range valid {
		if err := worker.New(worker.Options{}).Register(tool(name, nop)); err != nil {
			t.Errorf("Register(%q): %v", name, err)
		}
	}
	for _, name := range invalid {
		err := worker.New(worker.Options{}).Register(tool(name, nop))
		if err == nil || !strings.Contains(err.Error(), "tool name") || !strings.Contains(err.Error(), "a-z, 0-9 and _") {
			t.Errorf("Register(%q) = %v, want an error explaining the name rule", name, err)
		}
	}
}

func TestRegisterRefusesADuplicate(t *testing.T) {
	w := worker.New(worker.Options{})
	if err := w.Register(tool("echo", nop)); err != nil {
		t.Fatal(err)
	}
	err := w.Register(tool("echo", nop))
	if err == nil || !strings.Contains(err.Error(), `tool "echo" is already registered`) {
		t.Fatalf("second Register = %v, want an already-registered error", err)
	}
}

func TestRegisterChecksTheFields(t *testing.T) {
	cases := map[string]struct {
		tool worker.Tool
		want string
	}{
		"no handler":           {worker.Tool{Name: "x"}, `tool "x" has no Handler`},
		"schema not JSON":      {worker.Tool{Name: "x", Handler: nop, Parameters: json.RawMessage(`{`)}, "Parameters is not a JSON object"},
		"schema not an object": {worker.Tool{Name: "x", Handler: nop, Parameters: json.RawMessage(`[1]`)}, "Parameters is not a JSON object"},
		"schema null":          {worker.Tool{Name: "x", Handler: nop, Parameters: json.RawMessage(`null`)}, "Parameters is not a JSON object"},
		"negative concurrency": {worker.Tool{Name: "x", Handler: nop, Concurrency: -1}, "Concurrency must be from 0"},
		"negative timeout":     {worker.Tool{Name: "x", Handler: nop, Timeout: -time.Second}, "Timeout must be 0"},
		"negative hard":        {worker.Tool{Name: "x", Handler: nop, HardTimeout: -time.Second}, "HardTimeout must be 0"},
		"negative input":       {worker.Tool{Name: "x", Handler: nop, InputTimeout: -time.Second}, "InputTimeout must be 0"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := worker.New(worker.Options{}).Register(c.tool)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Register = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestRunRefusesABadConfiguration(t *testing.T) {
	_, conn := startServer(t)
	ctx := context.Background()
	if err := worker.New(worker.Options{}).Run(ctx, conn); err == nil || !strings.Contains(err.Error(), "no tools") {
		t.Errorf("Run without tools = %v, want a no-tools error", err)
	}
	w := newWorker(t, worker.Options{MaxConcurrency: -1}, tool("x", nop))
	if err := w.Run(ctx, conn); err == nil || !strings.Contains(err.Error(), "MaxConcurrency") {
		t.Errorf("Run with MaxConcurrency -1 = %v, want a MaxConcurrency error", err)
	}
}

func TestToolsCannotChangeWhileRunning(t *testing.T) {
	srv, conn := startServer(t)
	w := newWorker(t, worker.Options{}, tool("x", nop))
	run(t, w, conn)
	srv.accept(t).register(&pb.WorkerRegistered{WorkerId: "w-1"})

	if err := w.Register(tool("y", nop)); !errors.Is(err, worker.ErrRunning) {
		t.Errorf("Register while running = %v, want ErrRunning", err)
	}
	if err := w.Run(context.Background(), conn); !errors.Is(err, worker.ErrRunning) {
		t.Errorf("a second Run = %v, want ErrRunning", err)
	}
}

func TestRegistrationDeclaresWorkerAndTools(t *testing.T) {
	srv, conn := startServer(t)
	registered := make(chan string, 1)
	schema := json.RawMessage(`{
		"type": "object",
		"properties": {"text": {"type": "string"}}
	}`)
	w := newWorker(t, worker.Options{Name: "w-name", MaxConcurrency: 3, OnRegistered: func(id string) { registered <- id }},
		worker.Tool{Name: "full", Description: "all fields", Parameters: schema, NoBackground: true, Concurrency: 2,
			Timeout: 1500 * time.Millisecond, HardTimeout: time.Minute, InputTimeout: 15 * time.Minute, Handler: nop},
		tool("bare", nop))
	if w.WorkerID() != "" {
		t.Errorf("WorkerID before Run = %q, want empty", w.WorkerID())
	}
	r := run(t, w, conn)

	reg := srv.accept(t).register(&pb.WorkerRegistered{WorkerId: "w-42", PingIntervalSeconds: 10, TimeoutSeconds: 30})
	if reg.GetWorkerName() != "w-name" || reg.GetMaxConcurrency() != 3 || len(reg.GetTools()) != 2 {
		t.Fatalf("registration = %v", reg)
	}
	full, bare := reg.GetTools()[0], reg.GetTools()[1]
	if full.GetName() != "full" || full.GetDescription() != "all fields" || !full.GetNoBackground() || full.GetConcurrency() != 2 ||
		full.GetParametersJsonSchema() != `{"type":"object","properties":{"text":{"type":"string"}}}` ||
		full.DefaultTimeoutSeconds == nil || *full.DefaultTimeoutSeconds != 1.5 ||
		full.HardTimeoutSeconds == nil || *full.HardTimeoutSeconds != 60 ||
		full.InputTimeoutSeconds == nil || *full.InputTimeoutSeconds != 900 {
		t.Errorf("full tool = %v", full)
	}
	if bare.GetName() != "bare" || bare.GetDescription() != "test tool bare" || bare.GetNoBackground() || bare.GetConcurrency() != 0 ||
		bare.GetParametersJsonSchema() != `{"type":"object"}` || bare.DefaultTimeoutSeconds != nil || bare.HardTimeoutSeconds != nil ||
		bare.InputTimeoutSeconds != nil {
		t.Errorf("bare tool = %v", bare)
	}

	if id := recv(t, registered, "OnRegistered"); id != "w-42" {
		t.Errorf("OnRegistered(%q), want w-42", id)
	}
	if id := w.WorkerID(); id != "w-42" {
		t.Errorf("WorkerID = %q, want w-42", id)
	}
	if err := r.stop(t); err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	if id := w.WorkerID(); id != "" {
		t.Errorf("WorkerID after Run = %q, want empty", id)
	}
}

func TestAnEmptyNameDefaultsToHostAndPid(t *testing.T) {
	srv, conn := startServer(t)
	run(t, newWorker(t, worker.Options{}, tool("x", nop)), conn)
	reg := srv.accept(t).register(&pb.WorkerRegistered{WorkerId: "w-1"})
	if name := reg.GetWorkerName(); name == "" || !strings.Contains(name, "-") {
		t.Errorf("worker name = %q, want <host>-<pid>", name)
	}
}
