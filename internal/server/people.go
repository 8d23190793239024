package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Actors is the store's directory of people. Seleksi records a person by an opaque actor ID,
// one per (issuer, subject) of their tokens: workflow inputs and commands, the store's
// projections and audit events, and the logs carry the ID, never the subject, which is often
// a NIP. The handlers turn the caller into an actor ID before anything is recorded, and turn
// recorded IDs back into subjects in what they show to people allowed to see them.
type Actors interface {
	ActorID(ctx context.Context, issuer, subject string) (string, error)
	// ActorSubjects maps the actor IDs it knows to their subjects and leaves out other
	// values, such as the subjects recorded before actor IDs existed.
	ActorSubjects(ctx context.Context, ids []string) (map[string]string, error)
}

// roleOf is the workflow's and the store's name of the caller's role.
func roleOf(p auth.Principal) workflows.Role {
	return workflows.Role("ROLE_" + strings.ToUpper(string(p.Role)))
}

// callerActor is the caller as the workflow and the store record them: their actor ID and
// role.
func callerActor(ctx context.Context, actors Actors) (workflows.Actor, error) {
	p, ok := auth.FromContext(ctx)
	if !ok || p.Subject == "" {
		return workflows.Actor{}, errors.New("server: no authenticated caller to record")
	}
	id, err := actors.ActorID(ctx, p.Issuer, p.Subject)
	if err != nil {
		return workflows.Actor{}, fmt.Errorf("actor ID of the caller: %w", err)
	}
	return workflows.Actor{Subject: id, Role: roleOf(p)}, nil
}

// selectionActors is what actorIn needs of the store.
type selectionActors interface {
	Actors
	RecordsActorIDs(ctx context.Context, selectionID string) (bool, error)
}

// actorIn is the caller as selection selectionID records people: by actor ID, or by the
// token's subject in a selection created before actor IDs, whose workflow knows its
// committee and candidates by subject and would not recognise them otherwise. An unknown
// selection counts as new, so that the request fails on the selection, as it did before.
func actorIn(ctx context.Context, st selectionActors, selectionID string) (workflows.Actor, error) {
	byID, err := st.RecordsActorIDs(ctx, selectionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		byID = true
	case err != nil:
		return workflows.Actor{}, fmt.Errorf("how selection %q records people: %w", selectionID, err)
	}
	if byID {
		return callerActor(ctx, st)
	}
	p, ok := auth.FromContext(ctx)
	if !ok || p.Subject == "" {
		return workflows.Actor{}, errors.New("server: no authenticated caller to record")
	}
	return workflows.Actor{Subject: p.Subject, Role: roleOf(p)}, nil
}

// subjects maps recorded actor IDs to the subjects people know them by.
type subjects map[string]string

// of is the subject of a recorded actor, or the recorded value itself when it is no actor
// ID (a record made before actor IDs holds the subject; the system acts as itself).
func (s subjects) of(recorded string) string {
	if sub, ok := s[recorded]; ok {
		return sub
	}
	return recorded
}

// subjectsOf looks up the subjects of recorded actors.
func subjectsOf(ctx context.Context, actors Actors, recorded []string) (subjects, error) {
	if len(recorded) == 0 {
		return subjects{}, nil
	}
	m, err := actors.ActorSubjects(ctx, recorded)
	if err != nil {
		return nil, fmt.Errorf("subjects of recorded actors: %w", err)
	}
	return subjects(m), nil
}
