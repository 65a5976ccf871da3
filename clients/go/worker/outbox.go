package worker

import (
	"strings"
	"unicode/utf8"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// maxOutputMessage is the most output, in bytes, one InvocationOutput
// carries: small pieces written in a row are joined up to it, and a larger
// one is split, so every message stays far below gRPC's 4 MiB limit.
const maxOutputMessage = 64 * 1024

// outbox holds the messages waiting for the stream's one sender goroutine.
// grpc-go streams do not allow concurrent Sends; queueing instead of locking
// around Send means neither the receive loop nor a handler ever waits for
// the network.
//
// Pongs go first, so a worker with a backlog of progress still answers the
// server's liveness check at once. Progress is coalesced per task (a pending
// update is overwritten in place), which bounds the queue to a few messages
// per in-flight task however fast handlers report: at most a progress update,
// a question, another progress update and the result.
//
// Output is never dropped, coalesced away nor reordered: a task's messages go
// out in the order the handler made them. A piece written while the task's
// previous piece is still its last queued message joins it (up to
// maxOutputMessage), so many small writes cost few messages. A progress
// update is coalesced only with one queued after the task's last output, so
// the server never sees progress ahead of output written before it.
//
// outbox is not safe for concurrent use; the session's mutex guards it.
type outbox struct {
	pongs    []uint64
	items    []*pb.ConnectRequest
	progress map[string]*pb.InvocationProgress // task -> its update still in items, nothing of the task after it
	output   map[string]*pendingOutput         // task -> its output still in items, nothing of the task after it
}

// pendingOutput is a queued InvocationOutput that may still grow: its text is
// gathered in a builder (appending to a string would copy it every time) and
// moved into the message when the message can no longer change.
type pendingOutput struct {
	msg  *pb.InvocationOutput
	text strings.Builder
}

func (o *outbox) pong(sequence uint64) {
	o.pongs = append(o.pongs, sequence)
}

func (o *outbox) progressUpdate(taskID string, fraction float64, message string) {
	if p := o.progress[taskID]; p != nil {
		p.Fraction, p.Message = fraction, message
		return
	}
	o.sealOutput(taskID) // output written before this update stays ahead of it
	p := &pb.InvocationProgress{TaskId: taskID, Fraction: fraction, Message: message}
	if o.progress == nil {
		o.progress = make(map[string]*pb.InvocationProgress)
	}
	o.progress[taskID] = p
	o.items = append(o.items, &pb.ConnectRequest{Message: &pb.ConnectRequest_Progress{Progress: p}})
}

// outputText queues output of a task after everything the task queued
// before. text must be valid UTF-8 (pieces are cut at rune boundaries).
func (o *outbox) outputText(taskID, text string) {
	// A pending progress update stays ahead of this output: a later one is
	// queued after it instead of changing that one.
	delete(o.progress, taskID)
	if p := o.output[taskID]; p != nil {
		n := cut(text, maxOutputMessage-p.text.Len())
		p.text.WriteString(text[:n])
		text = text[n:]
	}
	for text != "" {
		n := cut(text, maxOutputMessage)
		p := &pendingOutput{msg: &pb.InvocationOutput{TaskId: taskID}}
		p.text.WriteString(text[:n])
		text = text[n:]
		o.sealOutput(taskID)
		if o.output == nil {
			o.output = make(map[string]*pendingOutput)
		}
		o.output[taskID] = p
		o.items = append(o.items, &pb.ConnectRequest{Message: &pb.ConnectRequest_Output{Output: p.msg}})
	}
}

// cut is how many bytes of text, at most limit, end on a rune boundary. A
// rune longer than limit (limit < 4) is not split: 0.
func cut(text string, limit int) int {
	if limit <= 0 {
		return 0
	}
	if len(text) <= limit {
		return len(text)
	}
	n := limit
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return n
}

// sealOutput fixes the task's pending output message, if any: nothing is
// appended to it from now on.
func (o *outbox) sealOutput(taskID string) {
	if p := o.output[taskID]; p != nil {
		p.msg.Text = p.text.String()
		delete(o.output, taskID)
	}
}

// inputRequest queues a call's question. A pending progress update and
// output of the task stay ahead of it; later ones queue after it, as after a
// result.
func (o *outbox) inputRequest(taskID, message, schemaJSON string) {
	delete(o.progress, taskID)
	o.sealOutput(taskID)
	q := &pb.InvocationInputRequest{TaskId: taskID, Message: message, SchemaJson: schemaJSON}
	o.items = append(o.items, &pb.ConnectRequest{Message: &pb.ConnectRequest_InputRequest{InputRequest: q}})
}

func (o *outbox) result(r *pb.InvocationResult) {
	// The session takes no more progress or output for the task, so its
	// pending messages (which stay queued, ahead of the result) need no
	// tracking.
	delete(o.progress, r.TaskId)
	o.sealOutput(r.TaskId)
	o.items = append(o.items, &pb.ConnectRequest{Message: &pb.ConnectRequest_Result{Result: r}})
}

// drop removes a task's queued messages: once the server cancelled the task
// it wants nothing more about it.
func (o *outbox) drop(taskID string) {
	delete(o.progress, taskID)
	delete(o.output, taskID)
	kept := o.items[:0]
	for _, m := range o.items {
		if taskOf(m) != taskID {
			kept = append(kept, m)
		}
	}
	clear(o.items[len(kept):])
	o.items = kept
}

// next takes the message to send now, or returns nil when there is none.
func (o *outbox) next() *pb.ConnectRequest {
	if len(o.pongs) > 0 {
		seq := o.pongs[0]
		o.pongs = o.pongs[1:]
		return &pb.ConnectRequest{Message: &pb.ConnectRequest_Pong{Pong: &pb.Pong{Sequence: seq}}}
	}
	if len(o.items) == 0 {
		return nil
	}
	m := o.items[0]
	o.items[0] = nil
	o.items = o.items[1:]
	if p := m.GetProgress(); p != nil && o.progress[p.TaskId] == p {
		// Sent from now on: a newer update must be queued as a new message.
		delete(o.progress, p.TaskId)
	}
	if out := m.GetOutput(); out != nil {
		if p := o.output[out.TaskId]; p != nil && p.msg == out {
			// The same for output: the sender marshals it outside the lock.
			o.sealOutput(out.TaskId)
		}
	}
	return m
}

func taskOf(m *pb.ConnectRequest) string {
	if p := m.GetProgress(); p != nil {
		return p.TaskId
	}
	if q := m.GetInputRequest(); q != nil {
		return q.TaskId
	}
	if out := m.GetOutput(); out != nil {
		return out.TaskId
	}
	return m.GetResult().GetTaskId()
}
