package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The writes below are how the selection workflow keeps the store in step with it (through
// the activities). Each applies one record in one transaction and is idempotent by the
// record's (workflow ID, key): the processed-commands ledger is written in the same
// transaction, so a retried activity or a replayed workflow task finds its record applied and
// changes nothing.

// checkProcessed reports whether (workflowID, key) was already applied. The same key with a
// different fingerprint means two different records claim one key, which retrying cannot fix:
// ErrConflict.
func checkProcessed(tx *gorm.DB, workflowID, key, fingerprint string) (bool, error) {
	var p processedRow
	err := tx.Take(&p, "workflow_id = ? AND command_key = ?", workflowID, key).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("processed commands: %w", err)
	case p.PayloadSHA256 != fingerprint:
		return false, fmt.Errorf("key %q of workflow %q was already applied with different content: %w", key, workflowID, ErrConflict)
	}
	return true, nil
}

// PayloadDigest is the digest the ledger keeps of a command's arguments: the SHA-256 of their
// canonical JSON, so that the API computes the same digest from the arguments it sends as the
// store from the arguments the workflow recorded, whatever their key order or Go type.
func PayloadDigest(args any) (string, error) {
	sum, _, err := digestJSON(args)
	return sum, err
}

// CommandAnswer is what the ledger keeps of an applied command for its caller.
type CommandAnswer struct {
	Kind string
	// ArgsSHA256 is PayloadDigest of the command's arguments; empty in rows written before
	// the ledger kept it.
	ArgsSHA256 string
	// Answer is the answer the caller got (JSON); empty when ArgsSHA256 is.
	Answer json.RawMessage
}

// CommandAnswer returns what the ledger holds for (workflowID, key): the command applied with
// that idempotency key in any run of the workflow. ErrNotFound when none was applied.
func (s *Store) CommandAnswer(ctx context.Context, workflowID, key string) (CommandAnswer, error) {
	var p processedRow
	err := s.db.WithContext(ctx).Take(&p, "workflow_id = ? AND command_key = ?", workflowID, key).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return CommandAnswer{}, fmt.Errorf("store: command %q of workflow %q: %w", key, workflowID, ErrNotFound)
	case err != nil:
		return CommandAnswer{}, fmt.Errorf("store: command %q of workflow %q: %w", key, workflowID, err)
	}
	a := CommandAnswer{Kind: p.Kind, ArgsSHA256: p.ArgsSHA256}
	if p.Answer != "" {
		a.Answer = json.RawMessage(p.Answer)
	}
	return a, nil
}

func markProcessed(tx *gorm.DB, p processedRow) error {
	if err := tx.Create(&p).Error; err != nil {
		if isUniqueViolation(err) {
			// A concurrent attempt of the same activity committed first; run again to find it.
			return fmt.Errorf("command %q applied concurrently: %w", p.CommandKey, errRetry)
		}
		return fmt.Errorf("record processed command: %w", err)
	}
	return nil
}

func requireKey(workflowID, selectionID, key string) error {
	if workflowID == "" || selectionID == "" || key == "" {
		return invalid("workflow ID, selection ID and key are required")
	}
	return nil
}

// ProjectWindow records the announcement window the workflow opened or extended and reopens
// intake (a snapshot froze it at the previous close). It reports whether it changed anything:
// false means (WorkflowID, Key) was applied before.
func (s *Store) ProjectWindow(ctx context.Context, in WindowInput, at time.Time) (bool, error) {
	op := fmt.Sprintf("store: project window %q of selection %q", in.Key, in.SelectionID)
	if err := requireKey(in.WorkflowID, in.SelectionID, in.Key); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	w := in.Window
	if w.Opens.IsZero() || w.ClosesWall.IsZero() || !w.Opens.Before(w.ClosesWall) {
		return false, fmt.Errorf("%s: %w", op, invalid("the window needs an opening before its close"))
	}
	fp, _, err := digestJSON(map[string]any{"kind": "ProjectWindow", "window": Window{instant(w.Opens), instant(w.Closes), instant(w.ClosesWall), w.Extension, instant(w.OpensWall)}})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	applied := false
	err = s.inTx(ctx, func(tx *gorm.DB) error {
		applied = false
		if _, err := s.lockSelection(tx, in.SelectionID); err != nil {
			return err
		}
		done, err := checkProcessed(tx, in.WorkflowID, in.Key, fp)
		if err != nil || done {
			return err
		}
		err = tx.Model(&selectionRow{}).Where("id = ?", in.SelectionID).UpdateColumns(map[string]any{
			"window_opens": nullTime(w.Opens), "window_closes": nullTime(w.Closes), "window_closes_wall": nullTime(w.ClosesWall), "window_opens_wall": nullTime(w.OpensWall),
			"window_extension": w.Extension, "intake_frozen": false, "version": gorm.Expr("version + 1"), "updated_at": instant(at),
		}).Error
		if err != nil {
			return fmt.Errorf("update window: %w", err)
		}
		applied = true
		return markProcessed(tx, processedRow{WorkflowID: in.WorkflowID, CommandKey: in.Key, SelectionID: in.SelectionID,
			Kind: "ProjectWindow", PayloadSHA256: fp, ProcessedAt: instant(at)})
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return applied, nil
}

// ProjectBlocked shows on the selection's row that its workflow is blocked, or with a nil b
// that it is not. The workflow calls it after each failed attempt and once the step succeeds;
// a repeated call writes the same values. ErrNotFound when the selection (of that workflow)
// does not exist.
func (s *Store) ProjectBlocked(ctx context.Context, workflowID, selectionID string, b *Blocked, at time.Time) error {
	op := fmt.Sprintf("store: project blocked state of selection %q", selectionID)
	if workflowID == "" || selectionID == "" {
		return fmt.Errorf("%s: %w", op, invalid("workflow and selection are required"))
	}
	cols := map[string]any{"blocked_reason": "", "blocked_step": "", "blocked_year": 0, "blocked_since": nil,
		"blocked_attempts": 0, "blocked_next_attempt": nil}
	if b != nil {
		if b.Reason == "" {
			return fmt.Errorf("%s: %w", op, invalid("a blocked state needs a reason"))
		}
		if err := checkText(b); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		cols = map[string]any{"blocked_reason": b.Reason, "blocked_step": b.Step, "blocked_year": b.Year,
			"blocked_since": nullTime(b.Since), "blocked_attempts": b.Attempts, "blocked_next_attempt": nullTime(b.NextAttempt)}
	}
	cols["version"], cols["updated_at"] = gorm.Expr("version + 1"), instant(at)
	res := s.db.WithContext(ctx).Model(&selectionRow{}).Where("id = ? AND workflow_id = ?", selectionID, workflowID).UpdateColumns(cols)
	if res.Error != nil {
		return fmt.Errorf("%s: %w", op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// TakeSnapshot closes intake and freezes the applications submitted so far, in one
// transaction under the selection's lock, so that no submission can slip in between the
// snapshot and the close. Called again with the same (WorkflowID, Key) it returns the same
// snapshot, read back from where the first call recorded it.
func (s *Store) TakeSnapshot(ctx context.Context, in SnapshotInput, at time.Time) (Snapshot, error) {
	op := fmt.Sprintf("store: snapshot %q of selection %q", in.Key, in.SelectionID)
	if err := requireKey(in.WorkflowID, in.SelectionID, in.Key); err != nil {
		return Snapshot{}, fmt.Errorf("%s: %w", op, err)
	}
	if in.ClosedAt.IsZero() {
		return Snapshot{}, fmt.Errorf("%s: %w", op, invalid("the close time is required"))
	}
	fp, _, err := digestJSON(map[string]any{"kind": "Snapshot", "closedAt": instant(in.ClosedAt)})
	if err != nil {
		return Snapshot{}, fmt.Errorf("%s: %w", op, err)
	}
	var snap Snapshot
	err = s.inTx(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockSelection(tx, in.SelectionID); err != nil {
			return err
		}
		done, err := checkProcessed(tx, in.WorkflowID, in.Key, fp)
		if err != nil {
			return err
		}
		if done {
			var row snapshotRow
			if err := tx.Take(&row, "selection_id = ? AND snapshot_key = ?", in.SelectionID, in.Key).Error; err != nil {
				return fmt.Errorf("recorded snapshot: %w", err)
			}
			return json.Unmarshal([]byte(row.Body), &snap)
		}
		err = tx.Model(&selectionRow{}).Where("id = ?", in.SelectionID).UpdateColumns(map[string]any{
			"intake_frozen": true, "version": gorm.Expr("version + 1"), "updated_at": instant(at),
		}).Error
		if err != nil {
			return fmt.Errorf("freeze intake: %w", err)
		}
		snap, err = computeSnapshot(tx, in.SelectionID, in.ClosedAt, nil)
		if err != nil {
			return err
		}
		if err := freezeDocuments(tx, in.SelectionID, instant(at)); err != nil {
			return err
		}
		body, err := json.Marshal(snap)
		if err != nil {
			return err
		}
		row := snapshotRow{SelectionID: in.SelectionID, SnapshotKey: in.Key, WorkflowID: in.WorkflowID,
			ClosedAt: instant(in.ClosedAt), Digest: snap.Digest, Applications: len(snap.Applications), Body: string(body), CreatedAt: instant(at)}
		if err := tx.Create(&row).Error; err != nil {
			return conflictOr(err, "snapshot")
		}
		return markProcessed(tx, processedRow{WorkflowID: in.WorkflowID, CommandKey: in.Key, SelectionID: in.SelectionID,
			Kind: "Snapshot", PayloadSHA256: fp, ProcessedAt: instant(at)})
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("%s: %w", op, err)
	}
	return snap, nil
}

// ApplyCommand applies one accepted command or workflow transition in one transaction: it
// updates the selection and application projections, writes the stage result revision, the
// objection and conflict declarations, appends the audit event and queues the notifications.
// It reports whether it changed anything: false means (WorkflowID, Key) was applied before.
func (s *Store) ApplyCommand(ctx context.Context, c Command) (bool, error) {
	op := fmt.Sprintf("store: apply %s %q to selection %q", c.Kind, c.Key, c.SelectionID)
	if err := requireKey(c.WorkflowID, c.SelectionID, c.Key); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if c.Kind == "" || c.At.IsZero() || c.Stage == "" {
		return false, fmt.Errorf("%s: %w", op, invalid("kind, time and stage are required"))
	}
	if err := checkText(c); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	// The payload is canonicalised once, here, for the ledger's fingerprint and for the audit
	// event: a sheet of a thousand results is a large document to parse and write again.
	payloadSHA, canonical, err := digestJSON(c.Payload)
	if err != nil {
		return false, fmt.Errorf("%s: payload: %w: %w", op, err, ErrInvalidArgument)
	}
	argsSHA := payloadSHA
	if len(c.ReceivedArgs) > 0 {
		if argsSHA, err = PayloadDigest(c.ReceivedArgs); err != nil {
			return false, fmt.Errorf("%s: received arguments: %w: %w", op, err, ErrInvalidArgument)
		}
	}
	fp, _, err := digestJSON(map[string]any{"kind": c.Kind, "seq": c.Seq, "payload": payloadSHA})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	at := instant(c.At)
	applied := false
	err = s.inTx(ctx, func(tx *gorm.DB) error {
		applied = false
		sel, err := s.lockSelection(tx, c.SelectionID)
		if err != nil {
			return err
		}
		done, err := checkProcessed(tx, c.WorkflowID, c.Key, fp)
		if err != nil || done {
			return err
		}
		if err := applySelection(tx, sel, c, at); err != nil {
			return err
		}
		owners, contacts, err := applyApplications(tx, sel, c, at)
		if err != nil {
			return err
		}
		if err := applyChecklists(tx, c.SelectionID, c.Checklists, at); err != nil {
			return err
		}
		if err := applyResult(tx, c.SelectionID, c.Result); err != nil {
			return err
		}
		if err := applyObjection(tx, c.SelectionID, c.Objection); err != nil {
			return err
		}
		if err := applyDeadline(tx, c.SelectionID, c.Deadline); err != nil {
			return err
		}
		for _, cf := range c.Conflicts {
			row := conflictRow{SelectionID: c.SelectionID, MemberID: cf.MemberID, ApplicationID: cf.ApplicationID,
				Relationship: cf.Relationship, Reason: cf.Reason, DeclaredBy: cf.DeclaredBy, DeclaredAt: at}
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "selection_id"}, {Name: "member_id"}, {Name: "application_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"relationship", "reason", "declared_by", "declared_at"}),
			}).Create(&row).Error
			if err != nil {
				return fmt.Errorf("declare conflict: %w", err)
			}
		}
		target := c.Target
		if target == "" {
			target = "selections/" + c.SelectionID
		}
		ev, err := s.appendAudit(tx, sel, auditInput{
			WorkflowID: c.WorkflowID, UpdateID: c.Key, CommandSeq: c.Seq, Actor: c.Actor, Action: c.Kind,
			Target: target, Reason: c.Reason, WorkflowTime: at, Payload: c.Payload,
			canonical: canonical, payloadSHA: payloadSHA,
		}, at)
		if err != nil {
			return err
		}
		if err := enqueueNotifications(tx, c, owners, contacts, at); err != nil {
			return err
		}
		applied = true
		return markProcessed(tx, processedRow{WorkflowID: c.WorkflowID, CommandKey: c.Key, SelectionID: c.SelectionID,
			Kind: c.Kind, CommandSeq: c.Seq, PayloadSHA256: fp, AuditSeq: ev.Seq, ProcessedAt: at,
			ArgsSHA256: argsSHA, Answer: string(c.Answer)})
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return applied, nil
}

// activeStates are the states of applications still in the running; they move with the
// selection from stage to stage.
func activeStates() []string { return []string{StateSubmitted, StateInProgress, StateShortlisted} }

func applySelection(tx *gorm.DB, sel *selectionRow, c Command, at time.Time) error {
	set := map[string]any{"stage": c.Stage, "phase": c.Phase, "updated_at": at}
	if c.Stage != sel.Stage {
		set["stage_opened_at"], set["stage_opened_wall"] = at, nullTime(c.AtWall)
		// Applications still in the running are now at the new stage; the changes below
		// then set those the command itself moved.
		err := tx.Model(&applicationRow{}).
			Where("selection_id = ? AND state IN ? AND current_stage <> ?", sel.ID, activeStates(), c.Stage).
			UpdateColumns(map[string]any{"current_stage": c.Stage, "updated_at": at}).Error
		if err != nil {
			return fmt.Errorf("move applications to %s: %w", c.Stage, err)
		}
	} else if sel.StageOpenedAt == nil {
		set["stage_opened_at"], set["stage_opened_wall"] = at, nullTime(c.AtWall)
	}
	if w := c.Window; w != nil {
		set["window_opens"], set["window_closes"], set["window_closes_wall"] = nullTime(w.Opens), nullTime(w.Closes), nullTime(w.ClosesWall)
		set["window_opens_wall"] = nullTime(w.OpensWall)
		set["window_extension"] = w.Extension
	}
	if c.SnapshotDigest != "" {
		set["snapshot_digest"] = c.SnapshotDigest
	}
	if a := c.Appointment; a != nil {
		set["appointed_application"], set["ppk_decree_ref"], set["oversight_recommendation_ref"] = a.ApplicationID, a.PPKDecreeRef, a.OversightRecommendationRef
		set["appointment_justification"] = a.Justification
	}
	if c.CancelReason != "" {
		set["cancel_reason"] = c.CancelReason
	}
	if c.CancelMessage != nil {
		m, err := encodeText(c.CancelMessage)
		if err != nil {
			return err
		}
		set["cancel_message"] = m
	}
	if err := tx.Model(&selectionRow{}).Where("id = ?", sel.ID).UpdateColumns(set).Error; err != nil {
		return fmt.Errorf("update selection: %w", err)
	}
	sel.Stage, sel.Phase = c.Stage, c.Phase
	return nil
}

// contact is where a candidate asked to be reached in the application.
type contact struct{ Email, Phone string }

// applyApplications writes the application changes and returns the owners of the changed
// applications (and of those the command's notices name) and the contacts their candidates
// gave, by application ID, for the notifications.
func applyApplications(tx *gorm.DB, sel *selectionRow, c Command, at time.Time) (owners map[string]string, contacts map[string]contact, err error) {
	owners = make(map[string]string, len(c.Applications))
	contacts = make(map[string]contact, len(c.Applications))
	ids := make([]string, 0, len(c.Applications))
	for _, ch := range c.Applications {
		ids = append(ids, ch.ApplicationID)
	}
	if c.Objection != nil {
		ids = append(ids, c.Objection.ApplicationID)
	}
	for _, n := range c.Notices {
		if n.ApplicationID != "" {
			ids = append(ids, n.ApplicationID)
		}
	}
	for start := 0; start < len(ids); start += 1000 {
		var rows []struct {
			ID    string
			Owner string
			Email string
			Phone string
		}
		batch := ids[start:min(start+1000, len(ids))]
		err := tx.Table("applications AS a").Select("a.id AS id, a.owner AS owner, c.email AS email, c.phone AS phone").
			Joins("JOIN candidates AS c ON c.id = a.candidate_id").
			Where("a.selection_id = ? AND a.id IN ?", sel.ID, batch).Scan(&rows).Error
		if err != nil {
			return nil, nil, fmt.Errorf("application owners: %w", err)
		}
		for _, r := range rows {
			owners[r.ID], contacts[r.ID] = r.Owner, contact{Email: r.Email, Phone: r.Phone}
		}
	}
	for _, ch := range c.Applications {
		if _, ok := owners[ch.ApplicationID]; !ok {
			return nil, nil, fmt.Errorf("application %q is not in selection %q: %w", ch.ApplicationID, sel.ID, ErrFailedPrecondition)
		}
		stage := ch.Stage
		if stage == "" {
			stage = c.Stage
		}
		set := map[string]any{"state": ch.State, "current_stage": stage, "rank": ch.Rank, "updated_at": at}
		switch ch.State {
		case StateEliminated, StateNotSelected, StateWithdrawn:
			m, err := encodeText(ch.ReasonMessage)
			if err != nil {
				return nil, nil, err
			}
			set["eliminated_stage"], set["elimination_reason"], set["elimination_message"] = stage, ch.Reason, m
		default:
			// An accepted objection can bring an application back into the running.
			set["eliminated_stage"], set["elimination_reason"], set["elimination_message"] = "", "", ""
		}
		if ch.FinalScore != 0 {
			set["final_score"] = ch.FinalScore
		}
		if ch.Status != nil {
			m, err := encodeText(ch.Status)
			if err != nil {
				return nil, nil, err
			}
			set["status_en"], set["status_id"], set["status_message"] = ch.Status.EN, ch.Status.ID, m
		}
		if err := tx.Model(&applicationRow{}).Where("selection_id = ? AND id = ?", sel.ID, ch.ApplicationID).UpdateColumns(set).Error; err != nil {
			return nil, nil, fmt.Errorf("update application %q: %w", ch.ApplicationID, err)
		}
	}
	return owners, contacts, nil
}

// applyChecklists writes the requirement checklists a command changed, each as the canonical
// JSON of its items. A screening batch changes a checklist per verdict, so they are written
// checklistChunk at a time, one UPDATE per chunk instead of one per application; a chunk
// that names an application twice (row by row the last write wins; a join picks either)
// or updates fewer rows than it names (an application not in the selection) is written row by
// row, which names the missing application. Both write the same columns.
func applyChecklists(tx *gorm.DB, selectionID string, cls []Checklist, at time.Time) error {
	bodies := make([]string, len(cls))
	for i, cl := range cls {
		body, err := CanonicalJSON(cl.Items)
		if err != nil {
			return fmt.Errorf("checklist of application %q: %w: %w", cl.ApplicationID, err, ErrInvalidArgument)
		}
		bodies[i] = string(body)
	}
	for off := 0; off < len(cls); off += checklistChunk {
		end := min(off+checklistChunk, len(cls))
		done, err := updateChecklists(tx, selectionID, cls[off:end], bodies[off:end], at)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		for i := off; i < end; i++ {
			if err := updateChecklist(tx, selectionID, cls[i].ApplicationID, bodies[i], at); err != nil {
				return err
			}
		}
	}
	return nil
}

// checklistChunk is how many checklists one UPDATE writes: two bind variables each, far
// below SQLite's and PostgreSQL's limits.
const checklistChunk = 500

// updateChecklists writes a chunk of checklists in one UPDATE. done is false when the chunk
// names an application twice (nothing written) or fewer rows matched than it names (those
// that matched were written); the caller then writes the chunk row by row, which reports the
// missing application, and the command's transaction rolls back.
func updateChecklists(tx *gorm.DB, selectionID string, cls []Checklist, bodies []string, at time.Time) (done bool, err error) {
	if len(cls) < 2 {
		return false, nil
	}
	seen := make(map[string]bool, len(cls))
	var q strings.Builder
	args := make([]any, 0, 2*len(cls)+2)
	// A join with the new values rather than a CASE, which SQLite evaluates by walking its
	// branches for every row. VALUES names its columns column1, column2 in both databases.
	q.WriteString("UPDATE applications SET checklist = v.column2, updated_at = ? FROM (VALUES ")
	args = append(args, at)
	for i, cl := range cls {
		if seen[cl.ApplicationID] {
			return false, nil
		}
		seen[cl.ApplicationID] = true
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?)")
		args = append(args, cl.ApplicationID, bodies[i])
	}
	q.WriteString(") AS v WHERE applications.selection_id = ? AND applications.id = v.column1")
	args = append(args, selectionID)
	res := tx.Exec(q.String(), args...)
	if res.Error != nil {
		return false, fmt.Errorf("checklists of %d applications: %w", len(cls), res.Error)
	}
	return res.RowsAffected == int64(len(cls)), nil
}

// updateChecklist writes one application's checklist.
func updateChecklist(tx *gorm.DB, selectionID, applicationID, body string, at time.Time) error {
	res := tx.Model(&applicationRow{}).Where("selection_id = ? AND id = ?", selectionID, applicationID).
		UpdateColumns(map[string]any{"checklist": body, "updated_at": at})
	if res.Error != nil {
		return fmt.Errorf("checklist of application %q: %w", applicationID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("application %q is not in selection %q: %w", applicationID, selectionID, ErrFailedPrecondition)
	}
	return nil
}

func applyResult(tx *gorm.DB, selectionID string, r *StageResult) error {
	if r == nil {
		return nil
	}
	if r.Stage == "" || r.Revision < 1 || r.PublishedAt.IsZero() {
		return invalid("a stage result needs its stage, a revision from 1 and a publication time")
	}
	var n int64
	if err := tx.Model(&stageResultRow{}).Where("selection_id = ? AND stage = ? AND revision = ?", selectionID, r.Stage, r.Revision).Count(&n).Error; err != nil {
		return fmt.Errorf("stage result: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("revision %d of the %s result is already published: %w", r.Revision, r.Stage, ErrConflict)
	}
	entries := r.Entries
	if entries == nil {
		entries = []ResultEntry{}
	}
	body, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	pub := instant(r.PublishedAt)
	revision, err := encodeText(r.RevisionMessage)
	if err != nil {
		return err
	}
	row := stageResultRow{SelectionID: selectionID, Stage: r.Stage, Revision: r.Revision, PublishedAt: pub,
		ObjectionDeadline: nullTime(r.ObjectionDeadline), RevisionReason: r.RevisionReason, RevisionMessage: revision,
		ScoresPublished: r.ScoresPublished, Entries: string(body)}
	if err := tx.Create(&row).Error; err != nil {
		return conflictOr(err, "stage result")
	}
	for start := 0; start < len(entries); start += 500 {
		batch := entries[start:min(start+500, len(entries))]
		rows := make([]applicationResultRow, len(batch))
		for i, e := range batch {
			scores := e.Scores
			if scores == nil {
				scores = []ComponentScore{}
			}
			sb, err := json.Marshal(scores)
			if err != nil {
				return err
			}
			why, err := encodeText(e.ReasonMessage)
			if err != nil {
				return err
			}
			rows[i] = applicationResultRow{SelectionID: selectionID, ApplicationID: e.ApplicationID, Stage: r.Stage,
				Revision: r.Revision, Outcome: e.Outcome, Scores: string(sb), FinalScore: e.FinalScore, Rank: e.Rank,
				Reason: e.Reason, ReasonMessage: why, PublishedAt: pub, CompetencyCategory: e.CompetencyCategory}
		}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "selection_id"}, {Name: "application_id"}, {Name: "stage"}},
			DoUpdates: clause.AssignmentColumns([]string{"revision", "outcome", "scores", "final_score", "rank", "reason", "reason_message", "published_at", "competency_category"}),
		}).Create(&rows).Error
		if err != nil {
			return fmt.Errorf("application results: %w", err)
		}
	}
	return nil
}

func applyObjection(tx *gorm.DB, selectionID string, o *Objection) error {
	if o == nil {
		return nil
	}
	if o.ID == "" || o.ApplicationID == "" || o.Stage == "" || o.FileTime.IsZero() {
		return invalid("an objection needs its ID, application, stage and filing time")
	}
	correction := ""
	if len(o.Correction) > 0 && string(o.Correction) != "null" {
		b, err := CanonicalJSON(o.Correction)
		if err != nil {
			return fmt.Errorf("objection correction: %w: %w", err, ErrInvalidArgument)
		}
		correction = string(b)
	}
	items, answers := "", ""
	if len(o.Items) > 0 {
		b, err := json.Marshal(o.Items)
		if err != nil {
			return err
		}
		items = string(b)
	}
	if len(o.ItemAnswers) > 0 {
		b, err := json.Marshal(o.ItemAnswers)
		if err != nil {
			return err
		}
		answers = string(b)
	}
	row := objectionRow{SelectionID: selectionID, ID: o.ID, ApplicationID: o.ApplicationID, Stage: o.Stage,
		Candidate: o.Candidate, Reason: o.Reason, State: o.State, Answer: o.Answer, AnsweredBy: o.AnsweredBy,
		FiledAt: instant(o.FileTime), AnsweredAt: nullTime(o.AnswerTime), Correction: correction,
		Items: items, Document: o.Document, ItemAnswers: answers}
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "selection_id"}, {Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"state", "answer", "answered_by", "answered_at", "correction", "item_answers"}),
	}).Create(&row).Error
	if err != nil {
		return conflictOr(err, "objection")
	}
	return nil
}

// applyDeadline records an objection's answer deadline and whether it passed unanswered.
func applyDeadline(tx *gorm.DB, selectionID string, d *Deadline) error {
	if d == nil {
		return nil
	}
	due := instant(d.Due)
	res := tx.Model(&objectionRow{}).Where("selection_id = ? AND id = ?", selectionID, d.ObjectionID).
		UpdateColumns(map[string]any{"answer_due": due, "overdue": d.Overdue})
	if res.Error != nil {
		return fmt.Errorf("objection %s deadline: %w", d.ObjectionID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("objection %s deadline: %w", d.ObjectionID, ErrNotFound)
	}
	return nil
}

// enqueueNotifications writes the command's notifications to the outbox: one to the owner of
// each changed application, one to the candidate whose objection was answered, one per notice
// the command carries (staff reminders, invitations), and, for an event that concerns no
// application in particular, one to the selection's public feed (recipient "*"). A
// candidate's notification carries the e-mail address the candidate gave in the application,
// so it goes there and nowhere else. Each is then fanned out to the channels its recipient
// chose (fanOut). Their IDs derive from the command, so the ledger and the IDs both keep a
// command from queueing twice.
func enqueueNotifications(tx *gorm.DB, c Command, owners map[string]string, contacts map[string]contact, at time.Time) error {
	var rows []notificationRow
	var encErr error
	add := func(recipient, appID, kind string, t Text) {
		if recipient == "" {
			return
		}
		m, err := encodeText(&t)
		if err != nil {
			encErr = err
			return
		}
		if kind == "" {
			kind = c.Kind
		}
		id := sha256Hex([]byte(strings.Join([]string{c.WorkflowID, c.Key, recipient, appID}, "\x00")))[:32]
		if kind != c.Kind {
			id = sha256Hex([]byte(strings.Join([]string{c.WorkflowID, c.Key, recipient, appID, kind}, "\x00")))[:32]
		}
		rows = append(rows, notificationRow{ID: id, SelectionID: c.SelectionID, Recipient: recipient, ApplicationID: appID,
			Email: contacts[appID].Email, Kind: kind, Code: t.Code, TextEN: t.EN, TextID: t.ID, Message: m, CreatedAt: at,
			Channel: ChannelEmail})
	}
	for _, ch := range c.Applications {
		t := Text{Code: ch.State, EN: "The status of your application has changed.", ID: "Status lamaran Anda telah berubah."}
		switch {
		case ch.Notice != nil:
			t = *ch.Notice
		case ch.Status != nil:
			t = *ch.Status
		case c.Message != nil:
			t = *c.Message
		}
		add(owners[ch.ApplicationID], ch.ApplicationID, "", t)
	}
	if o := c.Objection; o != nil && len(c.Applications) == 0 {
		t := Text{Code: o.State, EN: "Your objection has been recorded.", ID: "Sanggah Anda telah dicatat."}
		if c.Message != nil {
			t = *c.Message
		} else if o.State != "OBJECTION_STATE_PENDING" {
			t = Text{Code: o.State, EN: "The committee has answered your objection.", ID: "Panitia seleksi telah menjawab sanggah Anda."}
		}
		recipient := owners[o.ApplicationID]
		if recipient == "" {
			recipient = o.Candidate
		}
		add(recipient, o.ApplicationID, "", t)
	}
	for _, n := range c.Notices {
		recipient := n.Recipient
		if recipient == "" {
			recipient = owners[n.ApplicationID]
		}
		add(recipient, n.ApplicationID, n.Kind, n.Text)
	}
	if c.Message != nil {
		for _, r := range c.Recipients {
			add(r, "", "", *c.Message)
		}
	}
	// Only an event about the selection as a whole goes to its public feed: a reminder or an
	// escalation addressed to staff names objections and applications, and stays unsent when
	// nobody could be addressed (every member recused) rather than becoming public.
	if len(rows) == 0 && c.Message != nil && len(c.Recipients) == 0 && len(c.Notices) == 0 {
		add("*", "", "", *c.Message)
	}
	if encErr != nil {
		return encErr
	}
	return queue(tx, rows, phonesOf(contacts))
}

func phonesOf(contacts map[string]contact) map[string]string {
	phones := make(map[string]string, len(contacts))
	for id, c := range contacts {
		phones[id] = c.Phone
	}
	return phones
}

// queue resolves staff recipients, fans rows out to their recipients' channels and writes
// them; a row already queued (same ID) is left as it is.
func queue(tx *gorm.DB, rows []notificationRow, phones map[string]string) error {
	rows, err := expandStaff(tx, rows)
	if err != nil {
		return err
	}
	if rows, err = fanOut(tx, rows, phones); err != nil {
		return err
	}
	for start := 0; start < len(rows); start += 500 {
		batch := rows[start:min(start+500, len(rows))]
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&batch).Error; err != nil {
			return fmt.Errorf("queue notifications: %w", err)
		}
	}
	return nil
}
