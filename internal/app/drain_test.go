package app

import (
	"context"
	"testing"
)

// TestDrainIdle: the shutdown waits on idle for calls that GracefulStop does not see (the
// gateway's in-process calls, which may outlive their HTTP requests); idle closes when the
// last tracked call ends, and at once when none is in flight.
func TestDrainIdle(t *testing.T) {
	d := newDrain()
	select {
	case <-d.idle():
	default:
		t.Fatal("idle with no call in flight is not closed")
	}
	_, done1 := d.track(context.Background())
	_, done2 := d.track(context.Background())
	idle := d.idle()
	done1()
	select {
	case <-idle:
		t.Fatal("idle closed while a call is still in flight")
	default:
	}
	done2()
	select {
	case <-idle:
	default:
		t.Fatal("idle not closed after the last call ended")
	}
	// After the cut-off, new calls are cancelled at once and not waited for.
	d.cutOff()
	ctx, done3 := d.track(context.Background())
	defer done3()
	if ctx.Err() == nil {
		t.Error("a call after the cut-off is not cancelled")
	}
	select {
	case <-d.idle():
	default:
		t.Error("a call after the cut-off is waited for")
	}
}
