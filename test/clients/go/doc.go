// Package clients holds no code: its tests drive the real TaskService server
// through the generated Go stubs, as an external client would.
package clients
