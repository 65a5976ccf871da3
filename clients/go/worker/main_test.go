package worker_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine (the worker's, gRPC's or a test's)
// outlives the tests; TestNoGoroutineOutlivesRun checks the worker's own
// goroutines right when Run returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
