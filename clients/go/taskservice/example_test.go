package taskservice_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

// One tool call of a model, run through TaskService: inline when it settles
// in time, else followed to its end. (Compiled, not run: it needs a server.)
func Example() {
	client, err := taskservice.Dial("127.0.0.1:50051", taskservice.WithToken(os.Getenv("TASKSERVICE_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()

	exec, err := client.Execute(ctx, "sleep", `{"seconds": 3}`,
		taskservice.WithUser("alice"), taskservice.WithBudget(time.Second), taskservice.WithRequestID("call-42"))
	switch {
	case errors.Is(err, taskservice.ErrInvalidArgument), errors.Is(err, taskservice.ErrNotFound):
		fmt.Println("the model made a bad call:", err) // hand it back to the model
		return
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("the model reads:", exec.Text)
	if !exec.Backgrounded {
		return
	}
	for u, err := range exec.Handle.Await(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		if p := u.Task.Progress; p != nil {
			fmt.Printf("%.0f%% %s\n", 100*p.Fraction, p.Message)
		}
	}
	task, err := exec.Handle.Wait(ctx) // already finished: returns at once
	var failed *taskservice.TaskFailedError
	if errors.As(err, &failed) {
		fmt.Println("failed:", failed.Reason, failed.Message)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("result:", task.Result)
}

// A tool that asks a question: the call comes back waiting for input, and
// the question is answered with what a person typed. (Compiled, not run: it
// needs a server.)
func ExampleClient_ProvideInput() {
	client, err := taskservice.Dial("127.0.0.1:50051")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()

	exec, err := client.Execute(ctx, "ask", map[string]string{"question": "Deploy now?"}, taskservice.WithUser("alice"))
	if err != nil {
		log.Fatal(err)
	}
	for u, err := range exec.Handle.Await(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		q := u.Task.InputRequest
		if u.Task.Status != taskservice.StatusInputRequired || q == nil {
			continue
		}
		fmt.Println(q.Message) // q.Schema says what the answer must look like
		_, err = exec.Handle.ProvideInput(ctx, q.ID, map[string]string{"answer": "yes"})
		if errors.Is(err, taskservice.ErrInvalidArgument) {
			fmt.Println("the answer does not fit the schema:", err) // ask again
		} else if err != nil {
			log.Fatal(err)
		}
	}
}
