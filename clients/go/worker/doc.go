// Package worker hosts tools for TaskService in a Go process.
//
// TaskService runs a tool on a worker by sending an invocation over a
// long-lived ToolWorkerService.Connect stream that the worker opened. This
// package owns that stream so a tool author only writes handlers: it
// registers the tools, runs each invocation in its own goroutine, sends
// progress, output, questions and the result, answers the server's pings, cancels
// handlers the server cancels and reconnects when the connection drops.
//
// A minimal worker:
//
//	w := worker.New(worker.Options{Name: "text"})
//	err := w.Register(worker.Func("upper", "Upper-cases text.",
//		json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
//		func(ctx context.Context, call *worker.Call, args struct{ Text string }) (any, error) {
//			return strings.ToUpper(args.Text), nil
//		}))
//	...
//	conn, _ := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
//	err = w.Run(ctx, conn) // until ctx is done
//
// # Cancellation
//
// Every handler gets a context that is cancelled, with a cause, when its
// result is no longer wanted: a *CancelledError when the server cancels the
// task (inspect it with errors.As on context.Cause(ctx)), ErrConnectionLost
// when the stream ends and ErrStopped when Run's context is done. Whatever the
// handler returns after that is dropped, because the server has already
// settled the task.
//
// # Questions
//
// A handler can ask a question and wait for the answer (input-required):
//
//	answer, err := call.RequestInput(ctx, "Deploy to prod?",
//		json.RawMessage(`{"type":"object","properties":{"go":{"type":"boolean"}},"required":["go"]}`))
//
// The task waits in INPUT_REQUIRED with the question until someone answers
// it with TaskService's ProvideInput (package taskservice: Client.ProvideInput);
// the answer, already checked against the schema, comes back as a map. A
// question the server refuses is an *InputRequestError; a task that ends
// while it waits (a cancel, the tool's InputTimeout, the connection) ends
// the wait with the cause of the handler's context.
//
// # Output
//
// A handler can write output as it goes, which callers stream while the task
// runs and read after it finished (package taskservice: ExecuteStream, Await
// with WithOutput, ReadOutput):
//
//	call.Output(fmt.Sprintf("processed %d of %d\n", i, n))
//
// Output is queued, never dropped or reordered: it reaches the server in
// order with the call's progress, questions and result.
//
// # Concurrency
//
// The server never sends more invocations than the worker's MaxConcurrency or
// a tool's Concurrency allow. The library checks both limits too, so that a
// server bug cannot overload the worker: an invocation beyond a limit is
// answered at once with an error result instead of being run.
package worker
