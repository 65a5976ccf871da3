package taskservice

import (
	"context"
	"iter"

	"google.golang.org/grpc"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// Page is one page of List.
type Page struct {
	// Tasks, newest first.
	Tasks []*Task
	// NextPageToken asks ListPage for the next page; empty on the last one.
	NextPageToken string
	// Text is the page as a JSON summary for a model.
	Text string
}

// ListPage is one page of tasks, newest first; pageToken is "" for the first
// page, then the previous page's NextPageToken. Only stored tasks are listed:
// backgrounded ones and those with a request id.
func (c *Client) ListPage(ctx context.Context, pageToken string, opts ...ListOption) (*Page, error) {
	req := &pb.ListTasksRequest{PageToken: pageToken}
	for _, o := range opts {
		o.applyList(req)
	}
	resp, err := unary(ctx, c, true, func(ctx context.Context, o ...grpc.CallOption) (*pb.ListTasksResponse, error) {
		return c.rpc.ListTasks(ctx, req, o...)
	})
	if err != nil {
		return nil, err
	}
	page := &Page{NextPageToken: resp.GetNextPageToken(), Text: resp.GetText()}
	for _, t := range resp.GetTasks() {
		page.Tasks = append(page.Tasks, taskFromPb(t))
	}
	return page, nil
}

// List is every task, newest first, fetching pages as the loop goes on
// (WithPageSize sets their size). It ends after the last page, or with one
// (nil, err) pair.
//
//	for task, err := range client.List(ctx, taskservice.WithUser("alice"), taskservice.WithStatus(taskservice.StatusRunning)) {
//		...
//	}
func (c *Client) List(ctx context.Context, opts ...ListOption) iter.Seq2[*Task, error] {
	return func(yield func(*Task, error) bool) {
		token := ""
		for {
			page, err := c.ListPage(ctx, token, opts...)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, t := range page.Tasks {
				if !yield(t, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			token = page.NextPageToken
		}
	}
}

// Tools is every tool the server can run, meta tools included.
func (c *Client) Tools(ctx context.Context) ([]Tool, error) {
	resp, err := unary(ctx, c, true, func(ctx context.Context, o ...grpc.CallOption) (*pb.ListToolsResponse, error) {
		return c.rpc.ListTools(ctx, &pb.ListToolsRequest{}, o...)
	})
	if err != nil {
		return nil, err
	}
	tools := make([]Tool, 0, len(resp.GetTools()))
	for _, t := range resp.GetTools() {
		tools = append(tools, toolFromPb(t))
	}
	return tools, nil
}
