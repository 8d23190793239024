package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// People are known to Seleksi by an opaque actor ID, one per (issuer, subject) of their
// tokens. Whatever reaches Temporal or the logs (workflow inputs, update arguments,
// snapshots, command records) names people by that ID; the subject, which is often a NIP,
// stays in the store with the rest of the personal data: in the actors table and in the
// candidate's row (Candidate.Subject). The store's other identity fields (Actor.Subject,
// Application.Owner, conflicts' members, objections' candidates and answerers, notification
// recipients) hold actor IDs in everything recorded since migration 00014, and the subject
// itself in what was recorded before.

type actorRow struct {
	ID        string `gorm:"primaryKey"`
	Issuer    string
	Subject   string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (actorRow) TableName() string { return "actors" }

// actorPrefix starts every actor ID, so that an ID is never mistaken for a subject.
const actorPrefix = "act-"

// ActorID returns the actor ID of the person whose tokens name subject under issuer,
// creating one on first sight. Concurrent first calls agree on one ID.
func (s *Store) ActorID(ctx context.Context, issuer, subject string) (string, error) {
	if subject == "" {
		return "", fmt.Errorf("store: actor ID: %w", invalid("subject is required"))
	}
	key := actorKey{issuer: issuer, subject: subject}
	if id, ok := s.actorIDs.get(key); ok {
		return id, nil
	}
	var id string
	err := retry(ctx, func() error {
		db := s.db.WithContext(ctx)
		var row actorRow
		err := s.reads.WithContext(ctx).Select("id").Take(&row, "issuer = ? AND subject = ?", issuer, subject).Error
		switch {
		case err == nil:
			id = row.ID
			return nil
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		// Another process may insert the same person meanwhile: the unique index keeps one
		// row, and the read below returns whichever won. A row inserted is the one.
		row = actorRow{ID: newID(actorPrefix), Issuer: issuer, Subject: subject, CreatedAt: instant(time.Now())}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			id = row.ID
			return nil
		}
		row = actorRow{}
		if err := db.Select("id").Take(&row, "issuer = ? AND subject = ?", issuer, subject).Error; err != nil {
			return err
		}
		id = row.ID
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: actor ID: %w", err)
	}
	// An actor's row is never updated nor deleted: its ID is the same for as long as the
	// store exists.
	s.actorIDs.put(key, id)
	return id, nil
}

// actorKey names a person: the issuer and subject of their tokens.
type actorKey struct{ issuer, subject string }

// RecordsActorIDs reports whether a selection names people by actor ID. Selections created
// before actor IDs do not: their workflows know the committee and the candidates by their
// token subjects, so commands and applications for them must carry the subjects too.
func (s *Store) RecordsActorIDs(ctx context.Context, selectionID string) (bool, error) {
	if byID, ok := s.recordsActorIDs.get(selectionID); ok {
		return byID, nil
	}
	var row selectionRow
	if err := s.reads.WithContext(ctx).Select("actor_ids").Take(&row, "id = ?", selectionID).Error; err != nil {
		return false, fmt.Errorf("store: selection %q: %w", selectionID, notFound(err))
	}
	// Set when the selection is created and never changed; a missing selection is not
	// remembered, since it may be created later.
	s.recordsActorIDs.put(selectionID, row.ActorIDs)
	return row.ActorIDs, nil
}

// ActorSubjects returns the token subject of each of ids that is an actor ID the store
// knows. Other values (what was recorded before actor IDs, which is the subject itself, and
// the system's own name) are left out, so callers show them as recorded.
func (s *Store) ActorSubjects(ctx context.Context, ids []string) (map[string]string, error) {
	want := make([]string, 0, len(ids))
	for _, id := range ids {
		if len(id) > len(actorPrefix) && id[:len(actorPrefix)] == actorPrefix {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	out := make(map[string]string, len(want))
	for start := 0; start < len(want); start += 1000 {
		var rows []actorRow
		batch := want[start:min(start+1000, len(want))]
		if err := s.db.WithContext(ctx).Select("id", "subject").Where("id IN ?", batch).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: actor subjects: %w", err)
		}
		for _, r := range rows {
			out[r.ID] = r.Subject
		}
	}
	return out, nil
}
