package faultproxy

import (
	"bufio"
	"errors"
	"net"
	"testing"
	"time"
)

// echo serves lines back to their sender until the test ends.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line and reads it back within wait.
func roundTrip(c net.Conn, wait time.Duration) error {
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	_, err := bufio.NewReader(c).ReadString('\n')
	return err
}

func TestProxyCutStallRestore(t *testing.T) {
	p := Start(t, echo(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := roundTrip(c, 5*time.Second); err != nil {
		t.Fatalf("forwarding: %v", err)
	}

	p.Cut()
	if err := roundTrip(c, 5*time.Second); err == nil {
		t.Error("an open connection survived the cut")
	}
	if c2, err := net.Dial("tcp", p.Addr()); err == nil {
		_ = c2.Close()
		t.Error("a new connection was accepted during the cut")
	}
	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatalf("dial after restore: %v", err)
	}
	defer c3.Close()
	if err := roundTrip(c3, 5*time.Second); err != nil {
		t.Fatalf("forwarding after restore: %v", err)
	}

	p.Stall()
	var ne net.Error
	if err := roundTrip(c3, 200*time.Millisecond); err == nil {
		t.Fatal("an answer came through the stalled link")
	} else if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("stalled link: %v, want the client's own timeout", err)
	}
	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	// What the stalled link held is delivered once it is restored.
	_ = c3.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := bufio.NewReader(c3).ReadString('\n'); err != nil {
		t.Fatalf("held bytes after restore: %v", err)
	}
}
