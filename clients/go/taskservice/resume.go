package taskservice

import (
	"fmt"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// position is where a follower is in one task's stream: the last state it
// reported and, when it follows output, the next byte it expects. Reopened
// streams resume from here (AwaitResult's after_version and output_offset),
// and accept drops whatever a server sends again anyway, so the application
// sees each state and each output byte once.
type position struct {
	// version is the Task.Version of the last state reported; 0 before any
	// (or from a server without versions).
	version uint64
	// last is the last state reported, nil before any.
	last *Task
	// output says whether output is followed; offset is the next byte
	// expected then.
	output bool
	offset uint64
	// sequence counts the updates yielded.
	sequence uint64
}

// reported records a state the application has seen by other means than an
// update (ExecuteStream's answer).
func (p *position) reported(t *Task) {
	p.version = max(p.version, t.Version)
	p.last = t
}

// accept turns a message of an AwaitResult stream into the update the
// application should see: ok is false when all of it was seen already. A
// gap in the output (a piece starting past the next byte expected) is an
// error: that output would be lost.
func (p *position) accept(taskID string, msg *pb.AwaitResultResponse) (u Update, ok bool, err error) {
	u = Update{Snapshot: Snapshot{Task: taskFromPb(msg.GetTask()), Text: msg.GetText()}, Kind: msg.GetKind()}
	switch u.Kind {
	case UpdateOutput:
		if !p.output {
			return u, false, nil
		}
		chunk, ok, err := p.acceptOutput(taskID, msg.GetOutput().GetOffset(), msg.GetOutput().GetText())
		if !ok || err != nil {
			return u, false, err
		}
		u.Output = &chunk
		// The last state reported, as the protocol says, even where a server
		// attached a newer one (the final state behind the last output).
		if p.last != nil {
			u.Task = p.last
		}
		return u, true, nil
	case UpdateHeartbeat, UpdateWaitTimedOut:
		// They repeat the last state by design, and change nothing.
		return u, true, nil
	case UpdateTerminal:
		// Always the last word, whatever its version.
	default: // UpdateSnapshot, UpdateProgress, UpdateInput
		if v := u.Task.versionOrZero(); v != 0 && v <= p.version {
			return u, false, nil // seen already
		}
		if u.Kind == UpdateSnapshot && p.last != nil {
			// The state a reopened stream starts with is, to the
			// application, the next change of the same stream.
			u.Kind = UpdateProgress
			if u.Task != nil && u.Task.Status != p.last.Status {
				u.Kind = UpdateInput
			}
		}
	}
	if u.Task != nil {
		p.reported(u.Task)
	}
	return u, true, nil
}

// acceptOutput cuts a piece of output at offset to what was not seen yet;
// ok is false when nothing is new.
func (p *position) acceptOutput(taskID string, offset uint64, text string) (chunk OutputChunk, ok bool, err error) {
	end := offset + uint64(len(text))
	if end <= p.offset {
		return OutputChunk{}, false, nil
	}
	if offset > p.offset {
		return OutputChunk{}, false, fmt.Errorf("taskservice: the output of task %s jumped from byte %d to byte %d: "+
			"the server skipped output", taskID, p.offset, offset)
	}
	chunk = OutputChunk{Offset: p.offset, Text: text[p.offset-offset:]}
	p.offset = end
	return chunk, true, nil
}

// number gives u the next sequence number, as it is yielded.
func (p *position) number(u Update) Update {
	p.sequence++
	u.Sequence = p.sequence
	return u
}

func (t *Task) versionOrZero() uint64 {
	if t == nil {
		return 0
	}
	return t.Version
}
