// Package activities owns the Temporal activities of the selection workflow: applying each
// accepted command or transition to the store (projections, stage results, objections, audit
// events, queued notifications) and delivering the queued notifications. It translates between
// the workflow's types and the store's, and decides which store errors are worth retrying.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Store is what the activities need of the store.
type Store interface {
	ProjectWindow(ctx context.Context, in store.WindowInput, at time.Time) (bool, error)
	TakeSnapshot(ctx context.Context, in store.SnapshotInput, at time.Time) (store.Snapshot, error)
	ApplyCommand(ctx context.Context, c store.Command) (bool, error)
	ProjectBlocked(ctx context.Context, workflowID, selectionID string, b *store.Blocked, at time.Time) error
}

// Error types of the activities' errors, for the workflow (which blocks or answers by them)
// and for operators. The workflow package owns the names.
const (
	ErrTypeInvalidRecord = workflows.ErrTypeInvalidRecord
	ErrTypeInvalidData   = workflows.ErrTypeInvalidData
	ErrTypeKeyReused     = workflows.ErrTypeKeyReused
	ErrTypeInconsistent  = workflows.ErrTypeInconsistent
	ErrTypeNoSelection   = workflows.ErrTypeNoSelection
	ErrTypeRowMissing    = workflows.ErrTypeRowMissing
	// ErrTypeUnavailable marks a retryable error: the store did not answer or was busy.
	ErrTypeUnavailable = "StoreUnavailable"
)

// Activities implements workflows.Activities on the store. Register one value with the worker.
type Activities struct {
	store Store
	log   *slog.Logger
	// now stamps the store's bookkeeping columns; the records' own times come from the
	// workflow.
	now func() time.Time
	// beat is how often a long activity heartbeats; the workflow's heartbeat timeout is
	// several times longer, so that a crashed worker's activity is retried within seconds.
	beat time.Duration
	// record sends one heartbeat (activity.RecordHeartbeat; tests count them).
	record func(context.Context)
}

var _ workflows.Activities = (*Activities)(nil)

// New returns the activities over st. They queue notifications in the store's outbox with
// each change; internal/notify delivers them outside the command path, so that a slow mail
// server never delays a committee's command.
func New(st Store, log *slog.Logger) *Activities {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Activities{store: st, log: log, now: time.Now, beat: 2 * time.Second,
		record: func(ctx context.Context) { activity.RecordHeartbeat(ctx) }}
}

// ProjectWindow records the announcement window so that the API accepts applications in it.
func (a *Activities) ProjectWindow(ctx context.Context, w workflows.WindowProjection) error {
	applied, err := a.store.ProjectWindow(ctx, store.WindowInput{
		WorkflowID: w.WorkflowID, SelectionID: w.SelectionID, Key: w.Key,
		Window: store.Window{Opens: w.Opens, Closes: w.Closes, ClosesWall: w.ClosesWall, OpensWall: w.OpensWall, Extension: w.Extension},
	}, a.now())
	if err != nil {
		return classify(err)
	}
	a.log.DebugContext(ctx, "window projected", "selection", w.SelectionID, "key", w.Key, "applied", applied)
	return nil
}

// SnapshotApplications closes intake and returns the applications submitted in the window.
func (a *Activities) SnapshotApplications(ctx context.Context, req workflows.SnapshotRequest) (workflows.Snapshot, error) {
	defer a.heartbeat(ctx)()
	snap, err := a.store.TakeSnapshot(ctx, store.SnapshotInput{
		WorkflowID: req.WorkflowID, SelectionID: req.SelectionID, Key: req.Key, ClosedAt: req.ClosedAt,
	}, a.now())
	if err != nil {
		return workflows.Snapshot{}, classify(err)
	}
	out := workflows.Snapshot{Digest: snap.Digest, Applications: make([]workflows.SnapshotApplication, len(snap.Applications))}
	for i, app := range snap.Applications {
		f := app.Facts
		out.Applications[i] = workflows.SnapshotApplication{
			ID: app.ID, Candidate: app.Candidate, SubmittedAt: app.SubmittedAt,
			Facts: workflows.EligibilityFacts{
				Education: workflows.EducationLevel(f.Education), ExperienceMonths: f.ExperienceMonths,
				AdministratorMonths: f.AdministratorMonths, AgeAtClose: f.AgeAtClose, Documents: f.Documents,
			},
		}
	}
	a.log.DebugContext(ctx, "applications snapshot", "selection", req.SelectionID, "key", req.Key, "applications", len(out.Applications))
	return out, nil
}

// ProjectBlocked shows the selection's blocked state (or its end) on the selection's row.
func (a *Activities) ProjectBlocked(ctx context.Context, p workflows.BlockedProjection) error {
	var b *store.Blocked
	if p.Blocked != nil {
		b = &store.Blocked{Reason: string(p.Blocked.Reason), Step: p.Blocked.Step, Year: p.Blocked.Year,
			Since: p.Blocked.Since, Attempts: p.Blocked.Attempts, NextAttempt: p.Blocked.NextAttempt}
	}
	if err := a.store.ProjectBlocked(ctx, p.WorkflowID, p.SelectionID, b, a.now()); err != nil {
		return classify(err)
	}
	return nil
}

// heartbeat tells Temporal the activity is alive, at once and then every a.beat, until the
// returned function is called. Outside an activity (tests calling the method directly) it
// does nothing.
func (a *Activities) heartbeat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(a.beat)
		defer t.Stop()
		for {
			a.record(ctx)
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// ApplyCommand persists one accepted command or transition in one store transaction.
func (a *Activities) ApplyCommand(ctx context.Context, rec workflows.CommandRecord) error {
	c, err := command(rec)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s %q: %v", rec.Kind, rec.Key, err), ErrTypeInvalidRecord, err)
	}
	applied, err := a.store.ApplyCommand(ctx, c)
	if err != nil {
		return classify(err)
	}
	if !applied {
		// A retry or a replay: the first attempt committed and its answer was lost.
		a.log.InfoContext(ctx, "command already applied", "selection", rec.SelectionID, "kind", rec.Kind, "key", rec.Key)
	}
	return nil
}

// classify makes store errors that retrying cannot fix non-retryable, so that the workflow
// sees them at once (and blocks, or answers the command's caller) instead of retrying forever:
// data the database refuses (SQLSTATE classes 22 and 23 and SQLite's equivalents), a malformed
// record, a reused key, and a missing row, which is an inconsistency (the API creates the
// selection's row before it starts the workflow, and every other row the workflow refers to
// was written by an earlier record). Transient errors (contention, connection, timeout) are
// retryable with the activity's backoff; so is anything unknown.
func classify(err error) error {
	switch {
	case errors.Is(err, store.ErrInvalidArgument):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidRecord, err)
	case store.IsInvalidData(err):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidData, err)
	case errors.Is(err, store.ErrConflict):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeKeyReused, err)
	case errors.Is(err, store.ErrFailedPrecondition):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInconsistent, err)
	case errors.Is(err, store.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRowMissing, err)
	case store.IsTransient(err):
		return temporal.NewApplicationErrorWithCause(err.Error(), ErrTypeUnavailable, err)
	}
	return err
}

// command translates a workflow record into the store's command.
func command(rec workflows.CommandRecord) (store.Command, error) {
	// The payload is the arguments' JSON as the history records them, so that their
	// digest in the audit log can be recomputed from the history.
	payload, err := rec.Args.Payload()
	if err != nil {
		return store.Command{}, fmt.Errorf("encode args: %w", err)
	}
	var received json.RawMessage
	if r := rec.Args.Received(); r != nil {
		if received, err = json.Marshal(r); err != nil {
			return store.Command{}, fmt.Errorf("encode received args: %w", err)
		}
	}
	c := store.Command{
		ReceivedArgs: received,
		WorkflowID:   rec.WorkflowID, SelectionID: rec.SelectionID, Key: rec.Key, Seq: rec.Seq, Kind: rec.Kind,
		Actor:  store.Actor{Subject: rec.Actor.Subject, Role: string(rec.Actor.Role)},
		Reason: rec.Reason, At: rec.At, AtWall: rec.AtWall, Stage: string(rec.Stage), Phase: string(rec.Phase),
		Payload: payload, SnapshotDigest: rec.SnapshotDigest,
	}
	c.Target = target(rec)
	if c.Answer, err = json.Marshal(rec.Answer()); err != nil {
		return store.Command{}, fmt.Errorf("encode answer: %w", err)
	}
	c.Message = text(rec.Message)
	finals := map[string]int64{}
	if r := rec.Result; r != nil {
		sr := &store.StageResult{Stage: string(r.Stage), Revision: r.Revision, PublishedAt: r.PublishedAt,
			ObjectionDeadline: r.ObjectionDeadline, RevisionReason: r.RevisionReason, RevisionMessage: text(r.RevisionMessage),
			ScoresPublished: r.ScoresPublished,
			Entries:         make([]store.ResultEntry, len(r.Entries))}
		for i, e := range r.Entries {
			sr.Entries[i] = store.ResultEntry{ApplicationID: e.ApplicationID, Outcome: string(e.Outcome),
				FinalScore: int64(e.FinalScore), Rank: e.Rank, Reason: e.Reason, ReasonMessage: text(e.ReasonMessage),
				CompetencyCategory: string(e.Category)}
			for _, u := range e.Unmet {
				sr.Entries[i].Unmet = append(sr.Entries[i].Unmet, store.UnmetItem{Item: u.Item, Finding: text(u.Finding), Note: u.Note})
			}
			for _, sc := range e.Scores {
				sr.Entries[i].Scores = append(sr.Entries[i].Scores, store.ComponentScore{Component: string(sc.Component), Score: int64(sc.Score)})
			}
			if e.FinalScore != 0 {
				finals[e.ApplicationID] = int64(e.FinalScore)
			}
		}
		c.Result = sr
	}
	for _, ch := range rec.Applications {
		change := store.ApplicationChange{ApplicationID: ch.ApplicationID, State: string(ch.State),
			Stage: string(ch.Stage), Reason: ch.Reason, ReasonMessage: text(ch.ReasonMessage), Rank: ch.Rank, FinalScore: finals[ch.ApplicationID]}
		if ch.FinalScore != 0 {
			change.FinalScore = int64(ch.FinalScore)
		}
		change.Status = text(ch.Status)
		if rec.Kind == workflows.CmdCorrectResult {
			// The candidate learns that the published result changed and until when they
			// may object, not only their new status.
			change.Notice = text(rec.Message)
		}
		c.Applications = append(c.Applications, change)
	}
	if o := rec.Objection; o != nil {
		so := &store.Objection{ID: o.ID, ApplicationID: o.ApplicationID, Stage: string(o.Stage), Candidate: o.Candidate,
			Reason: o.Reason, State: string(o.State), Answer: o.Answer, AnsweredBy: o.AnsweredBy, FileTime: o.FiledAt, AnswerTime: o.AnsweredAt,
			Items: o.Items, Document: o.Document}
		for _, ans := range o.ItemAnswers {
			so.ItemAnswers = append(so.ItemAnswers, store.ItemAnswer{Item: ans.Item, Accepted: ans.Accepted, Answer: ans.Answer})
		}
		if o.Correction != nil {
			if so.Correction, err = json.Marshal(o.Correction); err != nil {
				return store.Command{}, fmt.Errorf("encode correction: %w", err)
			}
		}
		c.Objection = so
	}
	for _, cl := range rec.Checklists {
		// The workflow's JSON of the items, which the store keeps and verification rebuilds.
		items, err := json.Marshal(cl.Items)
		if err != nil {
			return store.Command{}, fmt.Errorf("encode checklist: %w", err)
		}
		c.Checklists = append(c.Checklists, store.Checklist{ApplicationID: cl.ApplicationID, Items: items})
	}
	if w := rec.Window; w != nil {
		c.Window = &store.Window{Opens: w.Opens, Closes: w.Closes, ClosesWall: w.ClosesWall, OpensWall: w.OpensWall, Extension: w.Extension}
	}
	c.Recipients = rec.Recipients
	if m := text(rec.Message); m != nil {
		// The store sends a notice naming only the application to its owner.
		for _, id := range rec.Candidates {
			c.Notices = append(c.Notices, store.Notice{ApplicationID: id, Text: *m})
		}
	}
	if d := rec.Deadline; d != nil {
		c.Deadline = &store.Deadline{ObjectionID: d.Objection, Due: d.Due, Overdue: d.Overdue}
	}
	switch rec.Kind {
	case workflows.CmdDeclareConflict:
		args := rec.Args.DeclareConflict
		if args == nil {
			return store.Command{}, fmt.Errorf("%s without its arguments", rec.Kind)
		}
		for _, id := range args.ApplicationIDs {
			c.Conflicts = append(c.Conflicts, store.Conflict{MemberID: rec.Actor.Subject, ApplicationID: id,
				Relationship: args.Relationship, Reason: args.Reason, DeclaredBy: rec.Actor.Subject})
		}
	case workflows.CmdAppoint:
		args := rec.Args.Appoint
		if args == nil {
			return store.Command{}, fmt.Errorf("%s without its arguments", rec.Kind)
		}
		c.Appointment = &store.Appointment{ApplicationID: args.ApplicationID, PPKDecreeRef: args.PPKDecreeRef,
			OversightRecommendationRef: args.OversightRecommendationRef, Justification: args.Justification}
	case workflows.CmdCancel, workflows.EvtPostponed:
		c.CancelReason = rec.Reason
		if rec.Kind == workflows.EvtPostponed && rec.Reason == "" {
			// The postponement's reason is the system's, recorded as its message code.
			c.CancelMessage = text(rec.Message)
		}
	}
	return c, nil
}

// text is a workflow message as the store keeps it: the code with its parameters (rendered
// only when shown or sent), or the texts of a message from before codes.
func text(m *workflows.Message) *store.Text {
	if m == nil {
		return nil
	}
	t := &store.Text{Code: m.Code, EN: m.EN, ID: m.ID, Detail: text(m.Detail)}
	if len(m.Params) > 0 {
		t.Params = m.Params.Map()
	}
	return t
}

// target names the resource a record acts on, for the audit log.
func target(rec workflows.CommandRecord) string {
	sel := "selections/" + rec.SelectionID
	switch {
	case rec.Objection != nil:
		return sel + "/applications/" + rec.Objection.ApplicationID + "/objections/" + rec.Objection.ID
	case rec.Result != nil:
		return sel + "/results/" + string(rec.Result.Stage)
	case len(rec.Applications) == 1:
		return sel + "/applications/" + rec.Applications[0].ApplicationID
	}
	return sel
}
