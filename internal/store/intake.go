package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
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
			for _, it := range batch {
				it.out, it.err = submitted{}, nil
				if err := it.ctx.Err(); err != nil {
					// The caller has gone; storing the submission now would answer no one.
					it.err = err
					continue
				}
				if len(batch) == 1 {
					it.out, it.err = s.submitInTx(tx, it.in, it.reqSHA)
					return it.err
				}
				if err := tx.SavePoint(submitSavepoint).Error; err != nil {
					return fmt.Errorf("savepoint: %w", err)
				}
				it.out, it.err = s.submitInTx(tx, it.in, it.reqSHA)
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
				}
			}
			return nil
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
