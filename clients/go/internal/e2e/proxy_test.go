package e2e_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// proxy forwards TCP connections from a loopback port to the server, and
// can sever every connection it carries at once, as a network fault or a
// load balancer restarting would. New connections are accepted after a cut.
type proxy struct {
	lis    net.Listener
	target string

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted int
	severed  int
	wg       sync.WaitGroup
}

// startProxy listens on 127.0.0.1 and forwards to target until the test
// ends; then every connection and goroutine of it is gone.
func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{lis: lis, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = lis.Close()
		p.sever()
		done := make(chan struct{})
		go func() {
			p.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(wait):
			t.Error("the proxy's goroutines did not end")
		}
	})
	return p
}

func (p *proxy) addr() string { return p.lis.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.lis.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		server, err := net.DialTimeout("tcp", p.target, wait)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.accepted++
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// pipe copies from one side to the other; when either side ends, both are
// closed, so the other pipe ends too.
func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	p.drop(dst, src)
}

func (p *proxy) drop(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
		_ = c.Close()
	}
}

// sever closes every connection the proxy carries (both sides) and returns
// how many client connections that was.
func (p *proxy) sever() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns) / 2
	for c := range p.conns {
		if tcp, ok := c.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // a reset, not a polite close
		}
		_ = c.Close()
		delete(p.conns, c)
	}
	p.severed += n
	return n
}

// connections is how many client connections the proxy has accepted.
func (p *proxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}
