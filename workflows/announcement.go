package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The announcement stage: the window is projected into the store, which takes applications
// directly from the API; at the close the workflow freezes them with a snapshot and decides to
// extend, go on, or postpone.

// openAnnouncement opens the window when the selection starts. A window that reaches into a
// year without a holiday list is refused here, extensions included, so a selection never
// starts with a window it cannot count.
func (s *selection) openAnnouncement(ctx workflow.Context) error {
	now := s.now(ctx)
	w := s.in.Windows
	last, closes, err := s.cal().WindowClose(now, w.AnnouncementDays)
	if err == nil && w.MaxExtensions > 0 {
		_, _, err = s.cal().WindowClose(now, w.AnnouncementDays+w.MaxExtensions*w.ExtensionDays)
	}
	if err != nil {
		if s.blocking {
			// The selection blocks with CalendarNotCovered until supplyHolidays adds the year.
			return fmt.Errorf("announcement window: %w", err)
		}
		m := calendarMessage(err)
		return temporal.NewApplicationErrorWithOptions(m.String(), InvalidInputType,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{[]Message{m}}})
	}
	next := s.st.clone()
	next.openFromSchedule(now)
	next.Announcement = Announcement{Opens: now, Closes: closes, LastDay: last}
	proj := s.projection(next.Announcement)
	if err := s.projectWindow(ctx, proj); err != nil {
		return err
	}
	m := code(CodeEventOpened, "until", last.String(), "zone", string(s.in.Calendar.Zone))
	return s.commit(ctx, next, CommandRecord{Kind: EvtOpened, Actor: systemActor(), Window: &proj, Message: &m})
}

// projection is what the store shows of the window. The store compares the current (wall)
// time with the opening, as with the close (ClosesWall); the two clocks differ at the opening
// only for a scheduled selection on a time scale.
func (s *selection) projection(a Announcement) WindowProjection {
	return WindowProjection{
		WorkflowID:  s.wfID,
		SelectionID: s.in.SelectionID,
		Key:         fmt.Sprintf("window-%d", a.Extensions),
		Opens:       s.st.Clock.Wall(a.Opens),
		Closes:      a.Closes,
		ClosesWall:  s.st.Clock.Wall(a.Closes),
		OpensWall:   s.st.Clock.Wall(a.Opens),
		Extension:   a.Extensions,
	}
}

func (s *selection) projectWindow(ctx workflow.Context, p WindowProjection) error {
	actx := s.storeOptions(ctx, false)
	return workflow.ExecuteActivity(actx, ActivityProjectWindow, p).Get(actx, nil)
}

// closeAnnouncement runs when the window has closed. It holds the lock.
func (s *selection) closeAnnouncement(ctx workflow.Context) error {
	a := s.st.Announcement
	actx := s.snapshotOptions(ctx)
	var snap Snapshot
	err := workflow.ExecuteActivity(actx, ActivitySnapshotApplications, SnapshotRequest{
		WorkflowID:  s.wfID,
		SelectionID: s.in.SelectionID,
		Key:         fmt.Sprintf("snapshot-%d", a.Snapshots+1),
		ClosedAt:    a.Closes,
	}).Get(actx, &snap)
	if err != nil {
		return err
	}
	next := s.st.clone()
	next.Announcement.Snapshots++
	next.Announcement.SnapshotDigest = snap.Digest
	next.Applications = applicationsFrom(snap)
	count := len(next.Applications)
	w := s.in.Windows

	if count < w.MinApplicants && a.Extensions < w.MaxExtensions {
		// The extension counts from the day after the last day, which is the instant of the close.
		last, closes, err := s.cal().WindowClose(a.Closes, w.ExtensionDays)
		if err != nil {
			// Checked at the start for the longest possible window, so this is a bug or a
			// calendar changed underneath; failing the task lets an operator fix and retry.
			return fmt.Errorf("extension window: %w", err)
		}
		next.Announcement.Extensions++
		next.Announcement.Closes, next.Announcement.LastDay = closes, last
		proj := s.projection(next.Announcement)
		if err := s.projectWindow(ctx, proj); err != nil {
			return err
		}
		m := code(CodeEventExtended, "count", strconv.Itoa(count), "required", strconv.Itoa(w.MinApplicants),
			"extension", strconv.Itoa(next.Announcement.Extensions), "max", strconv.Itoa(w.MaxExtensions), "until", last.String())
		s.logger.Info("announcement extended", "applications", count, "extension", next.Announcement.Extensions)
		return s.commit(ctx, next, CommandRecord{Kind: EvtExtended, Actor: systemActor(), At: a.Closes,
			Window: &proj, SnapshotDigest: snap.Digest, Message: &m})
	}

	// Without any applicant there is nothing to continue with, whatever the policy says.
	if count == 0 || (count < w.MinApplicants && w.WhenTooFew == PolicyPostpone) {
		m := code(CodeReasonPostponed, "count", strconv.Itoa(count), "extensions", strconv.Itoa(a.Extensions),
			"required", strconv.Itoa(w.MinApplicants))
		reason, why := s.reason(m, englishOnly)
		next.Stage, next.Phase = StageCancelled, ""
		next.Cancellation = &Cancellation{By: systemActor(), Reason: reason, ReasonMessage: why, At: a.Closes, Stage: StageAnnouncement, Postponed: true}
		changes := make([]ApplicationChange, 0, count)
		for i := range next.Applications {
			next.Applications[i].State = AppNotSelected
			next.Applications[i].Reason, next.Applications[i].ReasonMessage = reason, why
			changes = append(changes, ApplicationChange{ApplicationID: next.Applications[i].ID, State: AppNotSelected, Stage: StageAnnouncement,
				Reason: reason, ReasonMessage: why})
		}
		s.logger.Info("selection postponed", "applications", count)
		return s.commit(ctx, next, CommandRecord{Kind: EvtPostponed, Actor: systemActor(), At: a.Closes, Reason: reason,
			SnapshotDigest: snap.Digest, Applications: changes, Message: &m})
	}

	// Continue: publish the list of applicants and open administrative screening, with the
	// automatic eligibility check done up front so the committee sees it with each application.
	// The list judges nobody, so it has no objection window; objections start with the
	// screening result.
	pub := Publication{Stage: StageAnnouncement, Revision: 1, PublishedAt: a.Closes}
	next.setPublication(pub)
	entries := make([]ResultEntry, 0, count)
	for i := range next.Applications {
		ap := &next.Applications[i]
		if next.Checklist {
			// The checklist replaces the whole-application check: each item is proposed
			// from the facts, and the committee decides it. proposeChecklists sends them
			// to the store in chunks after this record.
			ap.Checklist = prefill(s.in.Requirements, ap.Facts)
			entries = append(entries, ResultEntry{ApplicationID: ap.ID, Outcome: OutcomePass})
			continue
		}
		e := checkEligibility(s.in.Requirements, ap.Facts)
		if !s.st.MessageCodes {
			for j := range e.Findings {
				e.Findings[j] = legacyMessage(e.Findings[j])
			}
		}
		ap.Eligibility = &e
		entries = append(entries, ResultEntry{ApplicationID: ap.ID, Outcome: OutcomePass})
	}
	next.Stage, next.Phase, next.StageOpenedAt = StageAdministrativeScreening, PhaseOpen, a.Closes
	m := code(CodeEventClosed, "count", strconv.Itoa(count))
	s.logger.Info("announcement closed", "applications", count)
	return s.commit(ctx, next, CommandRecord{Kind: EvtClosed, Actor: systemActor(), At: a.Closes, SnapshotDigest: snap.Digest,
		Result:  &StageResult{Stage: StageAnnouncement, Revision: 1, PublishedAt: a.Closes, ScoresPublished: false, Entries: entries},
		Message: &m})
}

// applicationsFrom turns a snapshot into application states sorted by ID. Duplicates in a
// snapshot (a store bug) are collapsed to the first, so that lookups stay unambiguous.
func applicationsFrom(snap Snapshot) []Application {
	apps := make([]Application, 0, len(snap.Applications))
	for _, a := range snap.Applications {
		apps = append(apps, Application{
			ID: a.ID, Candidate: a.Candidate, SubmittedAt: utc(a.SubmittedAt), Facts: a.Facts, State: AppSubmitted,
		})
	}
	slices.SortStableFunc(apps, func(a, b Application) int { return strings.Compare(a.ID, b.ID) })
	return slices.CompactFunc(apps, func(a, b Application) bool { return a.ID == b.ID })
}
