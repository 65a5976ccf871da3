// Package clients holds no code: its tests drive the real TaskService server
// as an external client would, through the generated Go stubs and through
// the client package clients/go/taskservice, and run the Go example
// (examples/go) against it.
package clients
