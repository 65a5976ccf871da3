package worker

import (
	"math/rand/v2"
	"time"
)

// Reconnect delays: short at first, so a server restart costs the worker
// little, capped so a long outage is still noticed within seconds.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// backoff yields the delays between reconnect attempts: doubling from
// minBackoff to maxBackoff, each drawn from [d/2, d] so that the workers
// cut off by one server restart do not all come back at the same instant.
type backoff struct {
	next time.Duration
}

func (b *backoff) delay() time.Duration {
	if b.next < minBackoff {
		b.next = minBackoff
	}
	d := b.next
	b.next = min(2*b.next, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// reset starts over after a connection that got as far as registering, so a
// worker that ran for hours reconnects quickly after its next drop.
func (b *backoff) reset() { b.next = 0 }
