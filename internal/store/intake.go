package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Group commit of submissions. In a deadline rush thousands of candidates submit within
// minutes, nearly all to one selection, and each submission used to be its own transaction:
// on SQLite one writer at a time, polling the busy timeout for its turn; on PostgreSQL one
// holder of the selection's row lock at a time. Either way the selection took one commit per
// submission. Here the submissions to a selection that arrive while one transaction is
// running wait for it, and the next transaction takes all of them: each in its own
// savepoint, so that a refused submission (a duplicate, a closed window, a bad document) is
// rolled back alone and answered alone, while the others commit together. Every submission
// keeps its own checks, participant number, audit event (chained one after another on the
// selection's head) and answer, and no caller is answered before the transaction holding its
// submission has committed.

// maxIntakeBatch bounds the submissions one transaction takes, so that the selection's lock
// (and on SQLite the database's only writer) is never held for long.
const maxIntakeBatch = 128

// intakeTimeout bounds one transaction of submissions, retries included. The transaction
// does not end with its runner's request, since the others' submissions are in it too, and
// the queued callers wait for it without watching their own deadlines; without a bound a
// lock held elsewhere (a PostgreSQL session idle in a transaction on the selection's row)
// would pile up every submission to that selection behind it.
const intakeTimeout = 30 * time.Second

// submitSavepoint is the savepoint of each submission in a batch; one name for all of them
// keeps the statements the same.
const submitSavepoint = "submission"

// intake queues the submissions waiting for their selection's next transaction.
type intake struct {
	mu sync.Mutex
	// waiting holds, by selection ID, the submissions that arrived while a transaction of
	// that selection was running; a selection is in the map exactly while one is running.
	waiting map[string][]*submitItem
}

func newIntake() *intake { return &intake{waiting: make(map[string][]*submitItem)} }

// submitItem is one submission waiting for, or taken into, a transaction.
type submitItem struct {
	ctx    context.Context
	in     SubmitInput
	reqSHA string
	// lead is signalled when the item is the first of its selection's waiting list and the
	// running transaction has ended: its caller then runs the next one.
	lead chan struct{}
	// done is closed when out or err holds the submission's outcome.
	done chan struct{}
	out  submitted
	err  error
}

// join queues it behind its selection's running transaction and reports false, or, when
// none is running, marks one as running and reports true: the caller then runs it.
func (q *intake) join(it *submitItem) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	sel := it.in.SelectionID
	if waiting, running := q.waiting[sel]; running {
		q.waiting[sel] = append(waiting, it)
		return false
	}
	q.waiting[sel] = nil
	return true
}

// next takes the waiting submissions of a selection whose transaction has ended, up to the
// batch bound, and hands the selection's next transaction to the first of them; with none
// waiting the selection has no running transaction any more.
func (q *intake) next(selectionID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	waiting := q.waiting[selectionID]
	if len(waiting) == 0 {
		delete(q.waiting, selectionID)
		return
	}
	waiting[0].lead <- struct{}{}
}

// take removes up to maxIntakeBatch waiting submissions of a selection; the caller runs them.
func (q *intake) take(selectionID string) []*submitItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	waiting := q.waiting[selectionID]
	n := min(len(waiting), maxIntakeBatch)
	batch := waiting[:n:n]
	q.waiting[selectionID] = waiting[n:]
	return batch
}

// submit stores in through its selection's group commit.
func (s *Store) submit(ctx context.Context, in SubmitInput, reqSHA string) (submitted, error) {
	it := &submitItem{ctx: ctx, in: in, reqSHA: reqSHA, lead: make(chan struct{}, 1), done: make(chan struct{})}
	if s.intake.join(it) {
		s.runIntake(ctx, []*submitItem{it})
	} else {
		// No waiting on ctx here: the item is in the queue, and a caller that left it
		// could be handed the next transaction with nobody to run it. The wait is one
		// transaction at most; runIntake answers items whose context ended unrun.
		select {
		case <-it.done:
		case <-it.lead:
			s.runIntake(ctx, s.intake.take(in.SelectionID))
		}
	}
	<-it.done
	return it.out, it.err
}

// runIntake runs one transaction of a selection's submissions, answers each of them and
// hands the selection's next transaction on. The transaction does not end with the context
// of the caller who happens to run it: the others' submissions are in it too.
func (s *Store) runIntake(ctx context.Context, batch []*submitItem) {
	answered := false
	defer func() {
		if !answered {
			// A panic in one submission must not leave the others waiting forever.
			for _, it := range batch {
				it.out, it.err = submitted{}, fmt.Errorf("store: submission aborted: %w", ErrUnavailable)
				close(it.done)
			}
		}
		s.intake.next(batch[0].in.SelectionID)
	}()
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), intakeTimeout)
	defer cancel()
	if err := s.submitBatch(bctx, batch); err != nil && len(batch) > 1 && bctx.Err() == nil {
		// Something failed the transaction as a whole rather than one submission in it
		// (the commit itself, or contention that outlasted every retry): try each alone,
		// so that no submission fails for another's sake. Not after the bound ran out:
		// whatever held the batch up would hold each of them up in turn.
		for _, it := range batch {
			if cerr := it.ctx.Err(); cerr != nil {
				it.out, it.err = submitted{}, cerr
				continue
			}
			ictx, cancel := context.WithTimeout(context.WithoutCancel(it.ctx), intakeTimeout)
			_ = s.submitBatch(ictx, []*submitItem{it})
			cancel()
		}
	}
	answered = true
	for _, it := range batch {
		close(it.done)
	}
}

// submitBatch stores the batch's submissions in one transaction and leaves each one's
// outcome in it. A batch of one is a plain transaction. In a larger one each submission has
// a savepoint of its own: a submission refused for its own reasons is rolled back to it and
// the rest go on. Contention aborts the whole transaction, which retry runs again from the
// start. The error returned is what failed the transaction, if anything did; every item
// then holds an error.
func (s *Store) submitBatch(ctx context.Context, batch []*submitItem) error {
	err := retry(ctx, func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			g := newSubmitGroup(batch[0].in.SelectionID)
			for _, it := range batch {
				it.out, it.err = submitted{}, nil
				if err := it.ctx.Err(); err != nil {
					// The caller has gone; storing the submission now would answer no one.
					it.err = err
					continue
				}
				if len(batch) == 1 {
					if it.out, it.err = s.submitInTx(tx, g, it.in, it.reqSHA); it.err != nil {
						return it.err
					}
					break
				}
				// The lock is taken outside any savepoint: on PostgreSQL rolling back to
				// the savepoint it was taken in would release it. A selection that cannot
				// be locked fails the transaction, and each submission is then tried alone
				// and answered why.
				if _, err := g.lock(s, tx); err != nil {
					return err
				}
				if err := tx.SavePoint(submitSavepoint).Error; err != nil {
					return fmt.Errorf("savepoint: %w", err)
				}
				mark := g.mark()
				it.out, it.err = s.submitInTx(tx, g, it.in, it.reqSHA)
				switch {
				case it.err == nil:
					if err := tx.Exec("RELEASE SAVEPOINT " + submitSavepoint).Error; err != nil {
						return fmt.Errorf("release savepoint: %w", err)
					}
				case errors.Is(it.err, errRetry) || isTransient(it.err):
					return it.err
				default:
					// Rolling back to a savepoint keeps it; releasing it too leaves
					// the next submission's savepoint at the same depth.
					if err := tx.RollbackTo(submitSavepoint).Error; err != nil {
						return fmt.Errorf("roll back to savepoint: %w", err)
					}
					if err := tx.Exec("RELEASE SAVEPOINT " + submitSavepoint).Error; err != nil {
						return fmt.Errorf("release savepoint: %w", err)
					}
					g.undo(mark)
				}
			}
			return g.flush(tx)
		})
	})
	if err != nil {
		for _, it := range batch {
			if it.err == nil {
				it.err = err
			}
			it.out = submitted{}
		}
	}
	return err
}

// submitGroup is what the submissions of one transaction share: the selection's row,
// locked and read once, with the audit head the transaction has reached; the selection's
// last participant sequence, read once; and the rows that each submission adds to the same
// tables (its audit event, its proof-of-registration job, its notification), which flush
// writes for all of them at the end, a statement a table, in the order the submissions were
// taken. The chain comes out exactly as if each event had been appended on its own: same
// sequence numbers, same previous hashes, same hashes. A submission refused in its
// savepoint gives its share back (undo), so that the next one takes its place in the chain
// and its participant number, as it would have had the refused one never arrived.
type submitGroup struct {
	selectionID string
	// sel is nil until the first submission locks the selection; then it holds the head the
	// transaction has reached, and headSeq the one the row holds until flush.
	sel     *selectionRow
	headSeq int64
	// lastSeq is the selection's largest participant sequence so far, once read (haveSeq).
	lastSeq int
	haveSeq bool
	audits  []auditRow
	jobs    []officialJobRow
	notes   []notificationRow
	phones  map[string]string
	// updated is the time of the last event, which the selection's row takes as its
	// update time.
	updated time.Time
}

func newSubmitGroup(selectionID string) *submitGroup {
	return &submitGroup{selectionID: selectionID, phones: map[string]string{}}
}

// lock takes the selection's lock in tx on the group's first call and returns the row the
// group advances.
func (g *submitGroup) lock(s *Store, tx *gorm.DB) (*selectionRow, error) {
	if g.sel == nil {
		sel, err := s.lockSelection(tx, g.selectionID)
		if err != nil {
			return nil, err
		}
		g.sel, g.headSeq = sel, sel.AuditSeq
	}
	return g.sel, nil
}

// nextParticipant picks the application's participant sequence and number. The group holds
// the selection's lock (a row lock on PostgreSQL; SQLite has one writer), so no other
// transaction adds an application meanwhile and the maximum read once stays the maximum;
// the unique index on (selection_id, participant_seq) is the backstop. Withdrawn
// applications keep their numbers, so the maximum never goes down.
func (g *submitGroup) nextParticipant(tx *gorm.DB, in SubmitInput) (int, string, error) {
	if !g.haveSeq {
		if err := tx.Model(&applicationRow{}).Where("selection_id = ?", g.selectionID).
			Select("COALESCE(MAX(participant_seq), 0)").Scan(&g.lastSeq).Error; err != nil {
			return 0, "", fmt.Errorf("participant sequence: %w", err)
		}
		g.haveSeq = true
	}
	seq := g.lastSeq + 1
	number := strconv.Itoa(seq)
	if in.ParticipantNumber != nil {
		var err error
		if number, err = in.ParticipantNumber(g.sel.TimeZone, seq); err != nil {
			return 0, "", fmt.Errorf("participant number: %w", err)
		}
	}
	g.lastSeq = seq
	return seq, number, nil
}

// groupMark is a group's state before one submission, which undo returns to.
type groupMark struct {
	sel                 selectionRow
	lastSeq             int
	haveSeq             bool
	audits, jobs, notes int
	updated             time.Time
}

// mark is called with the selection locked.
func (g *submitGroup) mark() groupMark {
	return groupMark{sel: *g.sel, lastSeq: g.lastSeq, haveSeq: g.haveSeq, audits: len(g.audits), jobs: len(g.jobs),
		notes: len(g.notes), updated: g.updated}
}

// add takes one submission's share of the group: its proof-of-registration job, its audit
// event, to which the group's head moves as appendAudit would move it, and its notice with
// the phone the notice may also go to.
func (g *submitGroup) add(job officialJobRow, ev auditRow, note notificationRow, phone string, at time.Time) {
	g.jobs = append(g.jobs, job)
	g.audits = append(g.audits, ev)
	g.sel.AuditSeq, g.sel.AuditHead = ev.Seq, ev.Hash
	g.sel.Version++
	g.updated = at
	g.notes = append(g.notes, note)
	g.phones[note.ApplicationID] = phone
}

// undo gives back what the submission since m took: its place in the chain, its participant
// sequence and its rows.
func (g *submitGroup) undo(m groupMark) {
	*g.sel = m.sel
	g.lastSeq, g.haveSeq, g.updated = m.lastSeq, m.haveSeq, m.updated
	for _, n := range g.notes[m.notes:] {
		delete(g.phones, n.ApplicationID)
	}
	g.audits, g.jobs, g.notes = g.audits[:m.audits], g.jobs[:m.jobs], g.notes[:m.notes]
}

// flush writes what the group's submissions left in it: their proof-of-registration jobs,
// their audit events with the selection's new head, and their notifications.
func (g *submitGroup) flush(tx *gorm.DB) error {
	if len(g.audits) == 0 {
		return nil
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&g.jobs).Error; err != nil {
		return fmt.Errorf("enqueue registration proofs: %w", err)
	}
	if err := tx.Create(&g.audits).Error; err != nil {
		if isUniqueViolation(err) {
			// Only possible if another writer forgot the selection's lock; retrying
			// re-reads the head.
			return fmt.Errorf("audit seq %d..%d taken: %w", g.audits[0].Seq, g.sel.AuditSeq, errRetry)
		}
		return fmt.Errorf("insert audit events: %w", err)
	}
	if err := advanceAuditHead(tx, g.selectionID, g.headSeq, g.sel.AuditSeq, g.sel.AuditHead, len(g.audits), g.updated); err != nil {
		return err
	}
	return queue(tx, g.notes, g.phones)
}
