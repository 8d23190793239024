// Package faultproxy is a TCP proxy for tests that stage real network outages between a
// client and a server (seleksid and PostgreSQL, seleksid and Temporal): it forwards every
// connection until told to cut the link (new connections refused, open ones reset) or to
// stall it (connections accepted, nothing forwarded, as behind a dead router), and forwards
// again once restored. It is imported by tests only; the machine's shared servers are never
// touched.
package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards connections from its own loopback address to a target address.
type Proxy struct {
	target string
	addr   string

	mu sync.Mutex
	ln net.Listener
	// conns are both ends of every open link, so a cut can reset them.
	conns map[net.Conn]struct{}
	// stalled is non-nil while the link is stalled, and closed when it is restored.
	stalled chan struct{}
	closed  bool
	wg      sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target until the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: listen: %v", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address, which clients dial instead of the target's.
func (p *Proxy) Addr() string { return p.addr }

// Cut takes the link down the way a crashed server or a closed port does: new connections
// are refused and open ones are reset.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.resetLocked()
}

// Stall takes the link down the way a dead router or a hung server does: connections are
// accepted and bytes are read, but nothing reaches the other side, so clients wait until their
// own deadlines end the wait.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled == nil {
		p.stalled = make(chan struct{})
	}
}

// Restore brings the link back: the proxy listens again on the same address (after a cut)
// and forwards what stalled links were holding.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
	if p.ln != nil || p.closed {
		return nil
	}
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		// The port was released a moment ago; the kernel may still hold it briefly.
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
	p.resetLocked()
	p.mu.Unlock()
	p.wg.Wait()
}

// serve accepts on ln until it is closed. Called with p.mu held or before p is shared.
func (p *Proxy) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.link(c)
			}()
		}
	}()
}

// link forwards one client connection to a new connection to the target.
func (p *Proxy) link(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	// A stalled link accepts without dialling: the target must not see the client either.
	if !p.wait(client) {
		return
	}
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if !p.wait(src) {
					return
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					_ = src.Close()
					return
				}
			}
			if errors.Is(err, io.EOF) {
				// A half-close is passed on, so the other direction can finish its answer.
				if tcp, ok := dst.(*net.TCPConn); ok && tcp.CloseWrite() == nil {
					return
				}
			}
			if err != nil {
				_ = dst.Close()
				return
			}
		}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
}

// wait blocks while the link is stalled. It reports false when c was reset meanwhile.
func (p *Proxy) wait(c net.Conn) bool {
	for {
		p.mu.Lock()
		stalled := p.stalled
		_, open := p.conns[c]
		p.mu.Unlock()
		if !open {
			return false
		}
		if stalled == nil {
			return true
		}
		select {
		case <-stalled:
		case <-time.After(50 * time.Millisecond):
			// Look again: a cut during the stall resets c.
		}
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}

// resetLocked closes every open connection with a reset (no lingering FIN handshake), the
// way a peer that vanished looks to the other side.
func (p *Proxy) resetLocked() {
	for c := range p.conns {
		if tcp, ok := c.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = c.Close()
		delete(p.conns, c)
	}
}
