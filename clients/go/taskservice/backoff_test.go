package taskservice

import (
	"testing"
	"time"
)

func TestBackoffDoublesWithJitterUpToTheCap(t *testing.T) {
	r := RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.start()
	for round := range 3 {
		for _, d := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
			d *= time.Millisecond
			if got := r.delay(); got < d/2 || got > d {
				t.Errorf("round %d: delay %s, want within [%s, %s]", round, got, d/2, d)
			}
		}
		r.reset()
	}
}

func TestZeroPolicyFieldsTakeTheDefaults(t *testing.T) {
	if got := (RetryPolicy{}).withDefaults(); got != DefaultRetryPolicy {
		t.Errorf("zero policy = %+v, want %+v", got, DefaultRetryPolicy)
	}
	// A cap below the first wait is raised to it, never below.
	if got := (RetryPolicy{InitialBackoff: time.Second, MaxBackoff: time.Millisecond}).withDefaults(); got.MaxBackoff != time.Second {
		t.Errorf("MaxBackoff = %s, want 1s", got.MaxBackoff)
	}
}
