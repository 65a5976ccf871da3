package taskservice

import (
	"context"

	"google.golang.org/grpc"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// ServerInfo is what a server says about itself.
type ServerInfo struct {
	// Version is the TaskService release the server was built from, e.g.
	// "0.2.0"; compare it with this package's Version.
	Version string
	// APIPackages are the API packages the server serves, e.g.
	// "taskmanager.v1".
	APIPackages []string
}

// ServerInfo asks the server which release it runs (GetServerInfo). Servers
// older than 0.2.0 do not have the call: they answer ErrUnimplemented.
func (c *Client) ServerInfo(ctx context.Context) (*ServerInfo, error) {
	resp, err := unary(ctx, c, true, func(ctx context.Context, o ...grpc.CallOption) (*pb.GetServerInfoResponse, error) {
		return c.rpc.GetServerInfo(ctx, &pb.GetServerInfoRequest{}, o...)
	})
	if err != nil {
		return nil, err
	}
	return &ServerInfo{Version: resp.GetVersion(), APIPackages: resp.GetApiPackages()}, nil
}
