package store

import (
	"context"
	"testing"
)

// TestMemoBounded: a memo never holds more than its bound, and what it holds is what was put.
func TestMemoBounded(t *testing.T) {
	m := newMemo[int, int](10)
	for i := range 35 {
		m.put(i, i*i)
		if n := len(m.m); n > 10 {
			t.Fatalf("after %d puts the memo holds %d, more than its bound 10", i+1, n)
		}
		if v, ok := m.get(i); !ok || v != i*i {
			t.Fatalf("get(%d) = %d, %v right after put", i, v, ok)
		}
	}
	if _, ok := m.get(0); ok {
		t.Error("the memo still holds its first entry after three times its bound")
	}
}

// TestActorIDRemembered: ActorID answers from memory once it has read or created an ID, and
// a selection's way of recording people is read once; a missing selection is not remembered.
func TestActorIDRemembered(t *testing.T) {
	ctx := context.Background()
	s := sqliteFactory(t, true)
	id, err := s.ActorID(ctx, "seleksi-local", "cand-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.actorIDs.get(actorKey{"seleksi-local", "cand-1"}); !ok || got != id {
		t.Fatalf("memo holds %q, %v after ActorID; want %q", got, ok, id)
	}
	again, err := s.ActorID(ctx, "seleksi-local", "cand-1")
	if err != nil || again != id {
		t.Fatalf("ActorID again: %q, %v; want %q", again, err, id)
	}
	if _, err := s.RecordsActorIDs(ctx, "sel-later"); err == nil {
		t.Fatal("RecordsActorIDs of a missing selection succeeded")
	}
	newSelection(t, s, "sel-later")
	if byID, err := s.RecordsActorIDs(ctx, "sel-later"); err != nil || !byID {
		t.Fatalf("RecordsActorIDs once the selection exists: %v, %v; want true", byID, err)
	}
	if byID, ok := s.recordsActorIDs.get("sel-later"); !ok || !byID {
		t.Errorf("memo holds %v, %v for the selection; want true", byID, ok)
	}
}
