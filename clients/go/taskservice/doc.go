// Package taskservice is a Go client for TaskService: it runs tools under a
// time budget and follows the ones that outlast it.
//
//	client, err := taskservice.Dial("127.0.0.1:50051", taskservice.WithToken(token))
//	...
//	defer client.Close()
//
//	exec, err := client.Execute(ctx, "sleep", map[string]any{"seconds": 3},
//		taskservice.WithUser("alice"), taskservice.WithBudget(time.Second))
//	if err != nil {
//		return err // the call failed: errors.Is(err, taskservice.ErrInvalidArgument), ...
//	}
//	fmt.Println(exec.Text) // what the model reads: the result, or the envelope with the task_id
//	if exec.Backgrounded {
//		for u, err := range exec.Handle.Await(ctx) {
//			if err != nil {
//				return err
//			}
//			fmt.Println(u.Kind, u.Text)
//		}
//	}
//
// # Inline or backgrounded
//
// Execute answers inline when the tool settles inside the budget
// (Execution.Backgrounded false, the outcome in Task and Text); otherwise the
// tool goes on as a tracked task and Execution.Handle follows it: Get, Await
// (an iterator over its updates), Wait (until it finishes), Cancel, Redirect,
// ProvideInput. A tool that fails is not an error of Execute: the task is
// FAILED and Execution.Err says why.
//
// # Questions (input-required)
//
// A tool may ask a question while it runs. The task is then
// StatusInputRequired, Task.InputRequest holds the question (its ID, Message
// and the JSON Schema of the answer), and a call still waiting inline is
// backgrounded at once. Answer with ProvideInput (checked against the
// schema: ErrInvalidArgument names the field); the tool gets the answer and
// the task runs again. Await reports both changes as UpdateInput.
//
//	if t := exec.Task; t.Status == taskservice.StatusInputRequired {
//		fmt.Println(t.InputRequest.Message)
//		_, err := exec.Handle.ProvideInput(ctx, t.InputRequest.ID, map[string]any{"answer": "yes"})
//		...
//	}
//
// # Output and streams
//
// A tool may write output as it runs (Task.OutputBytes counts it).
// ExecuteStream runs a tool and follows it to the end in one call: the
// output and progress while the call waits inline, Execute's answer, then
// the backgrounded task's updates and the rest of its output. Await with
// WithOutput follows a running task's output; ReadOutput reads it.
//
//	for ev, err := range client.ExecuteStream(ctx, "ticker", map[string]any{"count": 5, "interval_seconds": 1}) {
//		if err != nil {
//			return err
//		}
//		if ev.Output != nil {
//			fmt.Print(ev.Output.Text)
//		}
//	}
//
// Streams survive dropped connections: Await (and ExecuteStream after a
// backgrounded answer) reopen AwaitResult from the last Task.Version and
// output byte seen, so the loop sees every status change and every output
// byte once, in order.
//
// # Errors
//
// Failed calls return an *Error carrying the gRPC status; errors.Is matches
// it against ErrNotFound, ErrInvalidArgument, ErrUnavailable, ... and
// context.Canceled / context.DeadlineExceeded, and status.FromError still
// works on it. A task that ended FAILED is a *TaskFailedError from Wait.
//
// # Retries
//
// Calls that fail UNAVAILABLE are retried with exponential backoff and jitter
// when a retry cannot run anything twice: Get, List, Tools, ServerInfo,
// Cancel, Redirect, ReadOutput, Await (which resumes its stream),
// ExecuteStream after its answer (before it only with WithRequestID) and
// Execute with WithRequestID. ProvideInput never is. See RetryPolicy.
//
// # Versions
//
// Version is the TaskService release this client belongs to; ServerInfo asks
// the server for its own.
package taskservice
