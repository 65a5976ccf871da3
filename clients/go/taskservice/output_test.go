package taskservice_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

func outputUpdate(seq uint64, task *pb.Task, offset uint64, text string) *pb.AwaitResultResponse {
	u := update(outputKind, seq, task)
	u.Output = &pb.OutputChunk{Offset: offset, Text: text}
	return u
}

// followed is what an Await (or ExecuteStream) loop saw of a task.
type followed struct {
	output   strings.Builder
	offsets  []uint64 // each piece's offset, in order
	kinds    []taskservice.UpdateKind
	versions []uint64 // of the states (not output, heartbeats)
}

// saw records an update, checking that each piece of output starts where
// the previous one ended.
func (f *followed) saw(t *testing.T, u taskservice.Update) {
	t.Helper()
	f.kinds = append(f.kinds, u.Kind)
	switch u.Kind {
	case taskservice.UpdateOutput:
		if u.Output == nil || u.Output.Offset != uint64(f.output.Len()) || u.Output.Text == "" {
			t.Fatalf("output %+v after %d bytes", u.Output, f.output.Len())
		}
		f.offsets = append(f.offsets, u.Output.Offset)
		f.output.WriteString(u.Output.Text)
	case taskservice.UpdateHeartbeat, taskservice.UpdateWaitTimedOut:
	default:
		if u.Output != nil {
			t.Fatalf("a %v update with output", u.Kind)
		}
		f.versions = append(f.versions, u.Task.Version)
	}
}

func TestAwaitWithOutputResumesFromTheNextByteAndYieldsEachByteOnce(t *testing.T) {
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{
		{
			update(snapshot, 1, at(running("t1"), 1)),
			outputUpdate(2, at(running("t1"), 1), 0, "tick 1\n"),
			update(progress, 3, at(running("t1"), 2)),
			outputUpdate(4, at(running("t1"), 2), 7, "tick 2\n"),
		},
		{
			// A server that sends some again: a whole piece, and a piece
			// overlapping what was seen. Only the new bytes come through.
			outputUpdate(1, at(running("t1"), 2), 7, "tick 2\n"),
			outputUpdate(2, at(running("t1"), 2), 7, "tick 2\ntick 3\n"),
			update(progress, 3, at(running("t1"), 3)),
			// Output before the terminal update carries the final state;
			// the loop gets the last state it saw instead.
			outputUpdate(4, at(completed("t1", "ticked 4"), 4), 21, "tick 4\n"),
			update(terminal, 5, at(completed("t1", "ticked 4"), 4)),
		},
	}, []error{unavailable, nil})}
	client := serve(t, f)

	var seen followed
	for u, err := range client.Await(ctxFor(t), "t1", taskservice.WithOutput(0)) {
		if err != nil {
			t.Fatal(err)
		}
		if u.Kind == taskservice.UpdateOutput && u.Task.Version > 3 {
			t.Errorf("output update with state %d, newer than any state yielded", u.Task.Version)
		}
		seen.saw(t, u)
	}
	if want := "tick 1\ntick 2\ntick 3\ntick 4\n"; seen.output.String() != want {
		t.Errorf("output = %q, want %q", seen.output.String(), want)
	}
	if want := []uint64{0, 7, 14, 21}; !slices.Equal(seen.offsets, want) {
		t.Errorf("offsets = %v, want %v", seen.offsets, want)
	}
	if want := []uint64{1, 2, 3, 4}; !slices.Equal(seen.versions, want) {
		t.Errorf("versions = %v, want %v", seen.versions, want)
	}
	reqs, _ := f.received("AwaitResult")
	if r := reqs[0].(*pb.AwaitResultRequest); r.OutputOffset == nil || r.GetOutputOffset() != 0 || r.AfterVersion != nil {
		t.Errorf("first request = %v", r)
	}
	if r := reqs[1].(*pb.AwaitResultRequest); r.GetOutputOffset() != 14 || r.GetAfterVersion() != 2 {
		t.Errorf("reopened with %v, want after_version 2 and output_offset 14", r)
	}
}

func TestAwaitWithOutputFromAnOffsetAsksForIt(t *testing.T) {
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{{
		outputUpdate(1, at(completed("t1", "ok"), 3), 5, "rest"),
		update(terminal, 2, at(completed("t1", "ok"), 3)),
	}}, []error{nil})}
	var seen []taskservice.Update
	for u, err := range serve(t, f).Await(ctxFor(t), "t1", taskservice.WithOutput(5)) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, u)
	}
	if len(seen) != 2 || seen[0].Output == nil || *seen[0].Output != (taskservice.OutputChunk{Offset: 5, Text: "rest"}) ||
		seen[0].Output.End() != 9 || seen[1].Kind != taskservice.UpdateTerminal {
		t.Errorf("updates = %+v", seen)
	}
	reqs, _ := f.received("AwaitResult")
	if r := reqs[0].(*pb.AwaitResultRequest); r.GetOutputOffset() != 5 {
		t.Errorf("request = %v", r)
	}
}

func TestAwaitWithoutOutputIgnoresOutput(t *testing.T) {
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{{
		update(snapshot, 1, at(running("t1"), 1)),
		outputUpdate(2, at(running("t1"), 1), 0, "not asked for"),
		update(terminal, 3, at(completed("t1", "ok"), 2)),
	}}, []error{nil})}
	var seen followed
	for u, err := range serve(t, f).Await(ctxFor(t), "t1") {
		if err != nil {
			t.Fatal(err)
		}
		seen.saw(t, u)
	}
	if seen.output.Len() != 0 || len(seen.kinds) != 2 {
		t.Errorf("kinds = %v, output %q", seen.kinds, seen.output.String())
	}
	reqs, _ := f.received("AwaitResult")
	if r := reqs[0].(*pb.AwaitResultRequest); r.OutputOffset != nil {
		t.Errorf("request = %v, want no output_offset", r)
	}
}

func TestAGapInTheOutputIsAnErrorNotALoss(t *testing.T) {
	f := &fake{awaitResult: script([][]*pb.AwaitResultResponse{{
		outputUpdate(1, at(running("t1"), 1), 0, "abc"),
		outputUpdate(2, at(running("t1"), 1), 5, "fgh"),
	}}, []error{nil})}
	var seen followed
	var final error
	for u, err := range serve(t, f).Await(ctxFor(t), "t1", taskservice.WithOutput(0)) {
		if err != nil {
			final = err
			break
		}
		seen.saw(t, u)
	}
	if final == nil || !strings.Contains(final.Error(), "jumped from byte 3 to byte 5") || seen.output.String() != "abc" {
		t.Errorf("err = %v after output %q", final, seen.output.String())
	}
	if n := f.count("AwaitResult"); n != 1 {
		t.Errorf("%d streams, want 1", n)
	}
}

// outputServer answers GetResult with the output of text from the offset
// asked, at most max bytes a call, as the server does with its 1 MiB.
func outputServer(text string, max int, task *pb.Task) func(context.Context, int, *pb.GetResultRequest) (*pb.GetResultResponse, error) {
	return func(_ context.Context, _ int, req *pb.GetResultRequest) (*pb.GetResultResponse, error) {
		resp := &pb.GetResultResponse{Task: task}
		if req.OutputOffset == nil {
			return resp, nil
		}
		from := min(int(req.GetOutputOffset()), len(text))
		resp.Output = &pb.OutputChunk{Offset: uint64(from), Text: text[from:min(from+max, len(text))]}
		return resp, nil
	}
}

func TestReadOutputReadsUntilTheOutputEnds(t *testing.T) {
	text := strings.Repeat("0123456789", 5)
	task := at(completed("t1", "ok"), 3)
	task.OutputBytes = uint64(len(text))
	f := &fake{getResult: outputServer(text, 8, task)}
	client := serve(t, f)

	chunk, got, err := client.Handle("t1", taskservice.WithUser("alice")).ReadOutput(ctxFor(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	if chunk.Offset != 4 || chunk.Text != text[4:] || chunk.End() != uint64(len(text)) || got.OutputBytes != uint64(len(text)) {
		t.Errorf("chunk = %+v, task %+v", chunk, got)
	}
	reqs, _ := f.received("GetResult")
	var offsets []uint64
	for _, r := range reqs {
		req := r.(*pb.GetResultRequest)
		if req.GetUserId() != "alice" || req.GetTaskId() != "t1" {
			t.Errorf("request = %v", req)
		}
		offsets = append(offsets, req.GetOutputOffset())
	}
	if want := []uint64{4, 12, 20, 28, 36, 44}; !slices.Equal(offsets, want) {
		t.Errorf("read from %v, want %v", offsets, want)
	}

	// At the end already: one read, nothing.
	if chunk, _, err := client.ReadOutput(ctxFor(t), "t1", uint64(len(text))); err != nil || chunk.Text != "" {
		t.Errorf("ReadOutput at the end = %+v, %v", chunk, err)
	}
}

func TestReadOutputRetriesUnavailableAndStopsAtAnEmptyRead(t *testing.T) {
	task := at(running("t1"), 2)
	task.OutputBytes = 10 // more than the store still has (it expired meanwhile)
	serveText := outputServer("abc", 100, task)
	f := &fake{getResult: func(ctx context.Context, n int, req *pb.GetResultRequest) (*pb.GetResultResponse, error) {
		if n == 1 {
			return nil, unavailable
		}
		return serveText(ctx, n, req)
	}}
	chunk, _, err := serve(t, f).ReadOutput(ctxFor(t), "t1", 0)
	if err != nil || chunk.Text != "abc" {
		t.Errorf("ReadOutput = %+v, %v", chunk, err)
	}
	if n := f.count("GetResult"); n != 3 {
		t.Errorf("%d reads, want 3 (one retried, one empty)", n)
	}
}

func TestReadOutputOfAnUnknownTaskIsNotFound(t *testing.T) {
	f := &fake{getResult: failing[*pb.GetResultRequest, *pb.GetResultResponse](codes.NotFound)}
	if _, _, err := serve(t, f).ReadOutput(ctxFor(t), "t9", 0); !errors.Is(err, taskservice.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestReadOutputTrimsWhatItHasAlready(t *testing.T) {
	// A server answering from before the offset asked: the part before it is dropped.
	task := at(completed("t1", "ok"), 3)
	task.OutputBytes = 6
	f := &fake{getResult: func(context.Context, int, *pb.GetResultRequest) (*pb.GetResultResponse, error) {
		return &pb.GetResultResponse{Task: task, Output: &pb.OutputChunk{Offset: 0, Text: "abcdef"}}, nil
	}}
	chunk, _, err := serve(t, f).ReadOutput(ctxFor(t), "t1", 2)
	if err != nil || chunk != (taskservice.OutputChunk{Offset: 2, Text: "cdef"}) {
		t.Errorf("ReadOutput = %+v, %v", chunk, err)
	}
}
