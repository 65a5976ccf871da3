package worker

import (
	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

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
// outbox is not safe for concurrent use; the session's mutex guards it.
type outbox struct {
	pongs    []uint64
	items    []*pb.ConnectRequest
	progress map[string]*pb.InvocationProgress // task -> its update still in items
}

func (o *outbox) pong(sequence uint64) {
	o.pongs = append(o.pongs, sequence)
}

func (o *outbox) progressUpdate(taskID string, fraction float64, message string) {
	if p := o.progress[taskID]; p != nil {
		p.Fraction, p.Message = fraction, message
		return
	}
	p := &pb.InvocationProgress{TaskId: taskID, Fraction: fraction, Message: message}
	if o.progress == nil {
		o.progress = make(map[string]*pb.InvocationProgress)
	}
	o.progress[taskID] = p
	o.items = append(o.items, &pb.ConnectRequest{Message: &pb.ConnectRequest_Progress{Progress: p}})
}

// inputRequest queues a call's question. A pending progress update of the
// task stays ahead of it; later ones queue after it, as after a result.
func (o *outbox) inputRequest(taskID, message, schemaJSON string) {
	delete(o.progress, taskID)
	q := &pb.InvocationInputRequest{TaskId: taskID, Message: message, SchemaJson: schemaJSON}
	o.items = append(o.items, &pb.ConnectRequest{Message: &pb.ConnectRequest_InputRequest{InputRequest: q}})
}

func (o *outbox) result(r *pb.InvocationResult) {
	// The session takes no more progress for the task, so its pending update
	// (which stays queued, ahead of the result) needs no tracking.
	delete(o.progress, r.TaskId)
	o.items = append(o.items, &pb.ConnectRequest{Message: &pb.ConnectRequest_Result{Result: r}})
}

// drop removes a task's queued messages: once the server cancelled the task
// it wants nothing more about it.
func (o *outbox) drop(taskID string) {
	delete(o.progress, taskID)
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
	return m
}

func taskOf(m *pb.ConnectRequest) string {
	if p := m.GetProgress(); p != nil {
		return p.TaskId
	}
	if q := m.GetInputRequest(); q != nil {
		return q.TaskId
	}
	return m.GetResult().GetTaskId()
}
