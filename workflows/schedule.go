package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// A scheduled selection is announced ahead of time: it starts in StageScheduled, public but
// taking no applications, and the main loop's durable timer (which follows the selection's
// clock, time scale included) opens the announcement at SelectionInput.AnnouncementOpensAt.
// Only selections started with that field take this path, so the histories of selections
// that opened at once replay unchanged.

// ChangeIDScheduledOpening marks runs that start scheduled. Only inputs with
// AnnouncementOpensAt reach it, so no earlier history has to branch on it; the marker keeps
// later changes to the scheduled path replayable.
const ChangeIDScheduledOpening = "scheduled-opening"

// EvtScheduled is the record of a selection that waits for its announcement to open.
const EvtScheduled = "AnnouncementScheduled"

// ChangeIDLockedOpening marks runs whose announcement opens with the selection's lock held,
// so that a command sent right after the creation (a cancel) waits for the opening instead of
// committing beside it with the same sequence number. Runs recorded before it opened without
// the lock and replay that way.
const ChangeIDLockedOpening = "locked-opening"

// firstStep makes a new selection's first record: the schedule of a scheduled selection, or
// the opening of the announcement.
//
// Runs that keep the blocked state (s.blocking) make it inside system(), which holds the lock
// already; the others take the lock here where their version says so.
func (s *selection) firstStep(ctx workflow.Context) error {
	if s.st.Stage == StageScheduled {
		return s.announceSchedule(ctx, s.blocking)
	}
	if s.blocking || workflow.GetVersion(ctx, ChangeIDLockedOpening, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return s.openAnnouncement(ctx)
	}
	return s.locked(ctx, func() error { return s.openAnnouncement(ctx) })
}

// scheduledStart reports whether a new selection with this input waits for its announcement.
func (in SelectionInput) scheduledStart() bool { return !in.AnnouncementOpensAt.IsZero() }

// announceSchedule publishes a scheduled selection: the store shows it in StageScheduled with
// its opening time, and the audit trail records the plan. The announcement opens later, from
// the main loop (see systemStep). It runs once, as the first record of the selection.
//
// It holds the lock: a scheduled selection can be cancelled the moment it is created, and the
// cancel must wait for this first record instead of committing beside it (two records with
// one sequence number, the later commit overwriting the other's state).
func (s *selection) announceSchedule(ctx workflow.Context, held bool) error {
	workflow.GetVersion(ctx, ChangeIDScheduledOpening, workflow.DefaultVersion, 1)
	announce := func() error {
		m := code(CodeEventScheduled, "opens", utc(s.in.AnnouncementOpensAt).Format(time.RFC3339), "zone", string(s.in.Calendar.Zone))
		next := s.st.clone()
		return s.commit(ctx, next, CommandRecord{Kind: EvtScheduled, Actor: systemActor(), Message: &m})
	}
	if held {
		return announce()
	}
	return s.locked(ctx, announce)
}

// openFromSchedule moves a scheduled selection into the announcement it opens at now. For a
// selection that opened at once it changes nothing.
func (st *SelectionState) openFromSchedule(now time.Time) {
	if st.Stage == StageScheduled {
		st.Stage, st.Phase, st.StageOpenedAt = StageAnnouncement, PhaseOpen, now
	}
}
