package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// testActors: one actor ID per (issuer, subject), the same from concurrent first calls, and
// never the subject itself; ActorSubjects maps IDs back and leaves out what is no actor ID.
func testActors(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	const nip = "198001012005011001"
	ids := make([]string, 16)
	errs := parallel(len(ids), func(i int) error {
		var err error
		ids[i], err = s.ActorID(ctx, "seleksi-local", nip)
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent first calls gave %q and %q", ids[0], id)
		}
	}
	if !strings.HasPrefix(ids[0], actorPrefix) || strings.Contains(ids[0], nip) {
		t.Fatalf("actor ID %q is not opaque", ids[0])
	}
	if n := count(t, s, "actors", "subject = ?", nip); n != 1 {
		t.Fatalf("%d rows for one person", n)
	}
	other, err := s.ActorID(ctx, "https://idp.example.go.id", nip)
	if err != nil || other == ids[0] {
		t.Fatalf("the same subject under another issuer: %q, %v", other, err)
	}
	again, err := s.ActorID(ctx, "seleksi-local", nip)
	if err != nil || again != ids[0] {
		t.Fatalf("a later call: %q, %v; want %q", again, err, ids[0])
	}
	if _, err := s.ActorID(ctx, "seleksi-local", ""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("an empty subject: %v", err)
	}
	got, err := s.ActorSubjects(ctx, []string{ids[0], other, ids[0], "seleksi", "m-chair", "act-unknown"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[ids[0]] != nip || got[other] != nip {
		t.Fatalf("ActorSubjects = %v", got)
	}

	// New selections record people by actor ID; one created before actor IDs does not.
	newSelection(t, s, "sel-new")
	newSelection(t, s, "sel-old")
	if err := s.db.Exec("UPDATE selections SET actor_ids = ? WHERE id = ?", false, "sel-old").Error; err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"sel-new": true, "sel-old": false} {
		if got, err := s.RecordsActorIDs(ctx, id); err != nil || got != want {
			t.Errorf("RecordsActorIDs(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	if _, err := s.RecordsActorIDs(ctx, "sel-none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RecordsActorIDs of a missing selection: %v", err)
	}
}
