package worker

import "context"

// queue changes the outbox under the lock and wakes the sender.
func (s *session) queue(change func(*outbox)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	change(&s.out)
	s.kick()
}

// kick wakes the sender without ever waiting: one pending wake-up is enough
// for it to drain everything queued.
func (s *session) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// send is the stream's only sender, which is what grpc-go requires. It
// returns when ctx ends or a Send fails; a failed Send means the stream is
// gone, which receive learns from Recv.
func (s *session) send(ctx context.Context) {
	for {
		s.mu.Lock()
		m := s.out.next()
		s.mu.Unlock()
		if m == nil {
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if err := s.stream.Send(m); err != nil {
			s.w.log.Debug("worker: send failed", "error", err)
			return
		}
	}
}
