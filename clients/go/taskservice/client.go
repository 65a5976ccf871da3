package taskservice

import (
	"context"
	"crypto/tls"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/taskservice/taskservice/gen/go/taskmanager/v1"
)

// Client calls one TaskService (or a load-balanced set of replicas). It is
// safe for concurrent use; make one and share it.
type Client struct {
	rpc      pb.TaskServiceClient
	owned    *grpc.ClientConn // closed by Close; nil for New
	retry    RetryPolicy
	callOpts []grpc.CallOption
}

// Option configures a Client.
type Option func(*settings)

type settings struct {
	token       string
	tls         *tls.Config
	retry       RetryPolicy
	dialOptions []grpc.DialOption
}

// WithToken sends `authorization: Bearer <token>` with every call (the
// server's TASKSERVICE_AUTH_TOKENS). It is sent over plaintext connections
// too, because the server serves plaintext on loopback; use WithTLS for
// anything else, or the token crosses the network readable.
func WithToken(token string) Option { return func(s *settings) { s.token = token } }

// WithTLS makes Dial connect with TLS (add client certificates to the config
// for mutual TLS). Without it Dial connects in plaintext. New ignores it: the
// connection given to New has its own credentials.
func WithTLS(config *tls.Config) Option { return func(s *settings) { s.tls = config } }

// WithRetry replaces DefaultRetryPolicy; WithRetry(NoRetry) turns retries off.
func WithRetry(policy RetryPolicy) Option { return func(s *settings) { s.retry = policy } }

// WithDialOptions adds options to Dial's grpc.NewClient (interceptors, a
// larger grpc.MaxCallRecvMsgSize for servers whose results exceed 4 MiB, ...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(s *settings) { s.dialOptions = append(s.dialOptions, opts...) }
}

func collect(opts []Option) settings {
	s := settings{retry: DefaultRetryPolicy}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// Dial makes a Client for target ("host:port", or any grpc-go target such as
// "dns:///tasks.internal:50051"). Like grpc.NewClient it does not connect:
// the first call does, so a server that is down shows as ErrUnavailable then
// (after retries), not here. Close releases the connection.
func Dial(target string, opts ...Option) (*Client, error) {
	s := collect(opts)
	creds := insecure.NewCredentials()
	if s.tls != nil {
		creds = credentials.NewTLS(s.tls)
	}
	conn, err := grpc.NewClient(target, append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, s.dialOptions...)...)
	if err != nil {
		return nil, err
	}
	c := newClient(conn, s)
	c.owned = conn
	return c, nil
}

// New makes a Client on a connection the caller owns (and closes); conn is
// usually a *grpc.ClientConn.
func New(conn grpc.ClientConnInterface, opts ...Option) *Client {
	return newClient(conn, collect(opts))
}

func newClient(conn grpc.ClientConnInterface, s settings) *Client {
	c := &Client{rpc: pb.NewTaskServiceClient(conn), retry: s.retry}
	if s.token != "" {
		c.callOpts = append(c.callOpts, grpc.PerRPCCredentials(bearer(s.token)))
	}
	return c
}

// Close closes the connection Dial made; for a Client from New it does
// nothing.
func (c *Client) Close() error {
	if c.owned == nil {
		return nil
	}
	return c.owned.Close()
}

// bearer is per-RPC credentials that allow plaintext (see WithToken).
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// options is the client's call options and extra, in a new slice (calls run
// concurrently, so c.callOpts must never be appended to in place).
func (c *Client) options(extra ...grpc.CallOption) []grpc.CallOption {
	return append(slices.Clip(c.callOpts), extra...)
}

// unary makes one unary call through f, with the client's call options and
// the status mapped to an *Error; when retry is set it is retried as the
// policy says.
func unary[Res any](ctx context.Context, c *Client, retry bool, f func(context.Context, ...grpc.CallOption) (Res, error)) (Res, error) {
	r := c.retry.start()
	for {
		var trailer metadata.MD
		res, err := f(ctx, c.options(grpc.Trailer(&trailer))...)
		if err == nil {
			return res, nil
		}
		err = toError(err, trailer)
		if !retry {
			return res, err
		}
		if err = r.retry(ctx, err); err != nil {
			return res, err
		}
	}
}
