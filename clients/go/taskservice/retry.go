package taskservice

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how calls that failed UNAVAILABLE are retried. Only
// idempotent calls are: Get, List, Tools, ServerInfo, Cancel, Redirect,
// ReadOutput, the opening (and resuming) of Await and of ExecuteStream's
// AwaitResult after a backgrounded answer, and Execute and ExecuteStream when
// they have a request id (the server then returns the same task instead of
// running the tool again).
// ProvideInput never is: an answer taken whose reply was lost would come back
// FAILED_PRECONDITION. Other codes are never retried. A zero field takes the
// default shown.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one call, the first included
	// (default 7: the six waits add up to 3-6 s, about what a restarting
	// server takes to come back). 1 turns retries off.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry (default 100 ms). It
	// doubles after each retry up to MaxBackoff (default 5 s); each wait is
	// drawn at random from [d/2, d], so clients cut off together do not all
	// come back at the same instant.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxElapsed: no retry starts later than this after the first attempt
	// (default 30 s). A shorter context deadline wins: a retry that could not
	// start before it is not waited for.
	MaxElapsed time.Duration
}

// DefaultRetryPolicy is what a Client uses without WithRetry.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 7, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 30 * time.Second}

// NoRetry turns retries off: WithRetry(taskservice.NoRetry).
var NoRetry = RetryPolicy{MaxAttempts: 1}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = d.InitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = d.MaxBackoff
	}
	p.MaxBackoff = max(p.MaxBackoff, p.InitialBackoff)
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = d.MaxElapsed
	}
	return p
}

// retrier is one call's retry state.
type retrier struct {
	policy   RetryPolicy
	started  time.Time
	attempts int // made so far
	next     time.Duration
}

func (p RetryPolicy) start() *retrier {
	p = p.withDefaults()
	return &retrier{policy: p, started: time.Now(), attempts: 1, next: p.InitialBackoff}
}

// delay is the next wait: doubling, capped, drawn from [d/2, d].
func (r *retrier) delay() time.Duration {
	d := r.next
	r.next = min(2*r.next, r.policy.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// reset starts the count again, after an Await stream delivered an update:
// the connection worked, so a later drop gets the full set of attempts.
func (r *retrier) reset() {
	r.attempts, r.next, r.started = 1, r.policy.InitialBackoff, time.Now()
}

// retry waits before the next attempt of a call that failed with err. It
// returns nil to go on, err itself when err is not retryable or the policy's
// bounds are reached, and a context error when ctx ends first.
func (r *retrier) retry(ctx context.Context, err error) error {
	if !errors.Is(err, ErrUnavailable) || r.attempts >= r.policy.MaxAttempts {
		return err
	}
	wait := r.delay()
	at := time.Now().Add(wait)
	if at.Sub(r.started) > r.policy.MaxElapsed {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && at.After(deadline) {
		return err
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		r.attempts++
		return nil
	case <-ctx.Done():
		return contextError(ctx, err)
	}
}
