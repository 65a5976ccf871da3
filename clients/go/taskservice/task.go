package taskservice

import (
	"encoding/json"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// The proto enums under shorter names; their String methods print the proto
// names (TASK_STATUS_RUNNING, ...).
type (
	Status        = pb.TaskStatus
	FailureReason = pb.FailureReason
	DeliveryState = pb.DeliveryState
	UpdateKind    = pb.UpdateKind
)

const (
	StatusRunning   = pb.TaskStatus_TASK_STATUS_RUNNING
	StatusCompleted = pb.TaskStatus_TASK_STATUS_COMPLETED
	StatusFailed    = pb.TaskStatus_TASK_STATUS_FAILED
	// StatusInputRequired: the tool asked a question (Task.InputRequest)
	// and waits for the answer (ProvideInput). Not finished.
	StatusInputRequired = pb.TaskStatus_TASK_STATUS_INPUT_REQUIRED

	ReasonToolError   = pb.FailureReason_FAILURE_REASON_TOOL_ERROR
	ReasonCancelled   = pb.FailureReason_FAILURE_REASON_CANCELLED
	ReasonHardTimeout = pb.FailureReason_FAILURE_REASON_HARD_TIMEOUT
	ReasonWorkerLost  = pb.FailureReason_FAILURE_REASON_WORKER_LOST
	ReasonShutdown    = pb.FailureReason_FAILURE_REASON_SHUTDOWN
	// ReasonInputTimeout: the tool's question got no answer within its
	// input timeout.
	ReasonInputTimeout = pb.FailureReason_FAILURE_REASON_INPUT_TIMEOUT

	DeliveryPending    = pb.DeliveryState_DELIVERY_STATE_PENDING
	DeliveryDelivering = pb.DeliveryState_DELIVERY_STATE_DELIVERING
	DeliveryDelivered  = pb.DeliveryState_DELIVERY_STATE_DELIVERED
	DeliveryFailed     = pb.DeliveryState_DELIVERY_STATE_FAILED

	// UpdateSnapshot is the first update of a stream on a running task,
	// also after Await reconnected.
	UpdateSnapshot  = pb.UpdateKind_UPDATE_KIND_SNAPSHOT
	UpdateProgress  = pb.UpdateKind_UPDATE_KIND_PROGRESS
	UpdateHeartbeat = pb.UpdateKind_UPDATE_KIND_HEARTBEAT
	// UpdateTerminal: the task finished; the last update.
	UpdateTerminal = pb.UpdateKind_UPDATE_KIND_TERMINAL
	// UpdateWaitTimedOut: the wait limit passed with the task still running;
	// the last update.
	UpdateWaitTimedOut = pb.UpdateKind_UPDATE_KIND_WAIT_TIMED_OUT
	// UpdateInput: the task entered StatusInputRequired (Task.InputRequest
	// holds the question) or left it (answered, running again).
	UpdateInput = pb.UpdateKind_UPDATE_KIND_INPUT
	// UpdateOutput: the tool wrote output; Update.Output holds it and
	// Update.Task is the last state already reported (never a newer one;
	// the current state when none was reported yet, as on a finished task,
	// whose output comes before its UpdateTerminal). Only with WithOutput.
	UpdateOutput = pb.UpdateKind_UPDATE_KIND_OUTPUT
)

// Task is a tracked tool invocation.
type Task struct {
	// ID is empty for an inline answer without a request id: the inline fast
	// path stores nothing, so there is nothing to look up later.
	ID        string
	Tool      string
	Status    Status
	Reason    FailureReason // why it FAILED; unspecified otherwise
	Result    string        // the tool's output, when COMPLETED
	Error     string        // what went wrong, when FAILED
	CreatedAt time.Time
	UpdatedAt time.Time
	// FinishedAt is zero while the task runs.
	FinishedAt time.Time
	UserID     string
	ChannelID  string
	Platform   string
	RequestID  string
	// Progress is nil until the tool reports some.
	Progress *Progress
	// Redirect is nil unless an output redirect was requested.
	Redirect *Redirect
	// InputRequest is the question the tool waits on; set only while the
	// task is StatusInputRequired. Answer it with ProvideInput.
	InputRequest *InputRequest
	// Version grows with every stored change of the task (status, progress,
	// redirect, question); it orders the states a client sees, and Await
	// resumes from it after a reconnect. 0 from servers that predate it
	// (0.2.0 and older).
	Version uint64
	// OutputBytes is how much output the tool has written so far, in UTF-8
	// bytes (a truncation marker included): read it with ReadOutput, or
	// stream it with Await(WithOutput) or ExecuteStream.
	OutputBytes uint64
	// OutputTruncated is true once the output reached the server's
	// TASKSERVICE_MAX_OUTPUT_BYTES: it ends with a marker line, and later
	// writes are dropped.
	OutputTruncated bool
}

// OutputChunk is a piece of a task's output (what the tool wrote) at its
// place in the whole.
type OutputChunk struct {
	// Offset is the byte offset (UTF-8) of Text's first byte in the task's
	// output.
	Offset uint64
	Text   string
}

// End is the offset of the byte after the chunk, where the next one starts:
// pass it to ReadOutput or WithOutput to go on from there.
func (c OutputChunk) End() uint64 { return c.Offset + uint64(len(c.Text)) }

// InputRequest is a question a running tool asked.
type InputRequest struct {
	// ID names the question in ProvideInput; an answer to an earlier
	// question of the task is refused (ErrFailedPrecondition).
	ID string
	// Message is what is asked, for a person (or a model) to read.
	Message string
	// Schema is the JSON Schema the answer, a JSON object, must match.
	Schema      json.RawMessage
	RequestedAt time.Time
}

// Progress is the latest progress a tool reported.
type Progress struct {
	Fraction  float64 // 0 to 1; 0 when the tool gave none
	Message   string
	UpdatedAt time.Time
}

// Target is a chat channel a finished task's result is delivered to.
type Target struct {
	// Platform is a name configured on the server (TASKSERVICE_PLATFORMS).
	Platform  string
	ChannelID string
	// MaxChars caps the message; 0 is the platform's own limit.
	MaxChars int32
}

// Redirect is where a task's output redirect stands.
type Redirect struct {
	Target
	State       DeliveryState
	Attempts    int32
	LastError   string
	DeliveredAt time.Time // zero until delivered
}

// Done reports whether the task has finished (COMPLETED or FAILED). A task
// waiting for input has not.
func (t *Task) Done() bool {
	return t.Status == StatusCompleted || t.Status == StatusFailed
}

// Err is a *TaskFailedError when the task FAILED, else nil.
func (t *Task) Err() error {
	if t == nil || t.Status != StatusFailed {
		return nil
	}
	return &TaskFailedError{TaskID: t.ID, Tool: t.Tool, Reason: t.Reason, Message: t.Error}
}

// Snapshot is a task as it is now, with the text a model should read about
// it: the result when completed, a JSON status object when running or failed
// (the same text the check_task meta tool answers).
type Snapshot struct {
	Task *Task
	Text string
}

// Tool is a tool the server can run.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments object.
	Parameters json.RawMessage
	// NoBackground tools are always awaited inline (the meta tools are).
	NoBackground bool
	// DefaultBudget is the budget used when a call gives none.
	DefaultBudget time.Duration
	// HardTimeout: past this runtime a task fails HARD_TIMEOUT.
	HardTimeout time.Duration
	// Source is "example", "meta", "module", "http" or "worker".
	Source string
	// Workers is, for worker tools, how many connected workers serve it.
	Workers int32
}

func taskFromPb(t *pb.Task) *Task {
	if t == nil {
		return nil
	}
	task := &Task{
		ID:         t.GetTaskId(),
		Tool:       t.GetToolName(),
		Status:     t.GetStatus(),
		Reason:     t.GetFailureReason(),
		Result:     t.GetResult(),
		Error:      t.GetError(),
		CreatedAt:  timeOf(t.GetCreatedAt()),
		UpdatedAt:  timeOf(t.GetUpdatedAt()),
		FinishedAt: timeOf(t.GetFinishedAt()),
		UserID:     t.GetUserId(),
		ChannelID:  t.GetChannelId(),
		Platform:   t.GetPlatform(),
		RequestID:  t.GetRequestId(),

		Version:         t.GetVersion(),
		OutputBytes:     t.GetOutputBytes(),
		OutputTruncated: t.GetOutputTruncated(),
	}
	if p := t.GetProgress(); p != nil {
		task.Progress = &Progress{Fraction: p.GetFraction(), Message: p.GetMessage(), UpdatedAt: timeOf(p.GetUpdatedAt())}
	}
	if q := t.GetInputRequest(); q != nil {
		task.InputRequest = &InputRequest{
			ID:          q.GetId(),
			Message:     q.GetMessage(),
			Schema:      json.RawMessage(q.GetSchemaJson()),
			RequestedAt: timeOf(q.GetRequestedAt()),
		}
	}
	if r := t.GetRedirect(); r != nil {
		task.Redirect = &Redirect{
			Target:      Target{Platform: r.GetPlatform(), ChannelID: r.GetChannelId(), MaxChars: r.GetMaxChars()},
			State:       r.GetDeliveryState(),
			Attempts:    r.GetAttempts(),
			LastError:   r.GetLastError(),
			DeliveredAt: timeOf(r.GetDeliveredAt()),
		}
	}
	return task
}

func toolFromPb(t *pb.ToolInfo) Tool {
	return Tool{
		Name:          t.GetName(),
		Description:   t.GetDescription(),
		Parameters:    json.RawMessage(t.GetParametersJsonSchema()),
		NoBackground:  t.GetNoBackground(),
		DefaultBudget: seconds(t.GetDefaultTimeoutSeconds()),
		HardTimeout:   seconds(t.GetHardTimeoutSeconds()),
		Source:        t.GetSource(),
		Workers:       t.GetWorkers(),
	}
}

// timeOf is the zero time for an unset timestamp.
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
