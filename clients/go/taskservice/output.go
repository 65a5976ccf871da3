package taskservice

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// ReadOutput reads the task's output from byte offset from (0: all of it) to
// its end as it stands when the first read answers, and returns it with the
// task as the last read saw it. The server answers at most 1 MiB per read;
// ReadOutput reads on until it reaches that end (Task.OutputBytes), so the
// chunk may hold more than was there at first, never less. Go on later from
// chunk.End(), for instance while the task is still running.
//
//	chunk, task, err := client.ReadOutput(ctx, id, 0)
//	...
//	fmt.Print(chunk.Text)
//	if task.OutputTruncated { ... } // the server's limit cut it short
//
// Errors are Get's (ErrNotFound, ...); reads are retried on UNAVAILABLE. A
// server that predates task output answers an empty chunk.
func (c *Client) ReadOutput(ctx context.Context, id string, from uint64, opts ...TaskOption) (OutputChunk, *Task, error) {
	user := taskOptions(opts).user
	var text strings.Builder
	next := from
	var end uint64
	for first := true; ; first = false {
		req := &pb.GetResultRequest{TaskId: id, UserId: user, OutputOffset: proto.Uint64(next)}
		resp, err := unary(ctx, c, true, func(ctx context.Context, o ...grpc.CallOption) (*pb.GetResultResponse, error) {
			return c.rpc.GetResult(ctx, req, o...)
		})
		if err != nil {
			return OutputChunk{}, nil, err
		}
		task := taskFromPb(resp.GetTask())
		if first {
			end = task.OutputBytes
		}
		out := resp.GetOutput()
		offset, piece := out.GetOffset(), out.GetText()
		if out != nil && offset > next {
			return OutputChunk{}, nil, fmt.Errorf("taskservice: GetResult answered the output of task %s from byte %d, "+
				"not from byte %d as asked", id, offset, next)
		}
		if out != nil && offset+uint64(len(piece)) > next {
			piece = piece[next-offset:]
		} else {
			piece = ""
		}
		text.WriteString(piece)
		next += uint64(len(piece))
		// Nothing more to read (the end, or output gone with an expired task).
		if next >= end || piece == "" {
			return OutputChunk{Offset: from, Text: text.String()}, task, nil
		}
	}
}

// ReadOutput is Client.ReadOutput for this task.
func (h *Handle) ReadOutput(ctx context.Context, from uint64) (OutputChunk, *Task, error) {
	return h.c.ReadOutput(ctx, h.id, from, WithUser(h.user))
}
