package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Commands that are not tied to one stage: withdrawal, conflict of interest, cancellation.

func (s *selection) checkWithdraw(_ time.Time, a WithdrawArgs) *Message {
	if m := s.checkOpen(); m != nil {
		return m
	}
	st := s.st
	if st.Stage == StageAnnouncement {
		// While the window is open the API withdraws in the store directly; a withdrawal
		// reaches the workflow during the announcement only between the window's end and
		// the recording of its close, which takes moments.
		return bi(RejectWrongStage, "the announcement window has ended and its close is being recorded; send the withdrawal again in a few moments",
			"masa pengumuman telah berakhir dan penutupannya sedang dicatat; kirim ulang penarikan lamaran beberapa saat lagi")
	}
	i := st.app(a.ApplicationID)
	if i < 0 {
		m := errNoApplication(a.ApplicationID)
		return &m
	}
	app := &st.Applications[i]
	switch {
	case a.Actor.Role == RoleCandidate && a.Actor.Subject == app.Candidate:
	case a.Actor.Role == RoleAdmin && !blank(a.Actor.Subject):
		if blank(a.Reason) {
			return bi(RejectInvalidArgument, "a withdrawal recorded by the secretariat needs a reason (such as the candidate's letter)",
				"penarikan yang dicatat sekretariat wajib disertai alasan (misalnya surat dari peserta)")
		}
	default:
		return bi(RejectWrongActor, "only the candidate, or the secretariat on the candidate's written request, may withdraw an application",
			"lamaran hanya dapat ditarik oleh peserta sendiri, atau oleh sekretariat atas permintaan tertulis peserta")
	}
	if !app.State.active() {
		m := msg(RejectWrongStage, "application %s is no longer in the selection", "lamaran %s tidak lagi mengikuti seleksi", app.ID)
		return &m
	}
	return checkText("reason", "alasan", a.Reason, false)
}

func (s *selection) withdraw(ctx workflow.Context, a WithdrawArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkWithdraw(now, a) },
		func(next *SelectionState, _ time.Time, _ *UpdateResult) CommandRecord {
			app := &next.Applications[next.app(a.ApplicationID)]
			app.State, app.EliminatedAt, app.Reason = AppWithdrawn, next.Stage, a.Reason
			return CommandRecord{Kind: CmdWithdraw, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{Withdraw: &a},
				Applications: []ApplicationChange{{ApplicationID: app.ID, State: AppWithdrawn, Stage: next.Stage, Reason: a.Reason, Rank: app.Rank}}}
		})
}

func (s *selection) checkDeclareConflict(_ time.Time, a DeclareConflictArgs) *Message {
	mem, m := s.memberOfOpenSelection(a.Actor)
	if m != nil {
		return m
	}
	st := s.st
	if st.Stage == StageAnnouncement {
		return bi(RejectWrongStage, "conflicts are declared per application, once the announcement has closed and the applications are known",
			"konflik kepentingan dinyatakan per lamaran, setelah pengumuman ditutup dan lamaran diketahui")
	}
	if len(a.ApplicationIDs) == 0 || len(a.ApplicationIDs) > MaxBatch {
		m := msg(RejectInvalidArgument, "name between 1 and %d applications", "sebutkan 1 sampai %d lamaran", MaxBatch)
		return &m
	}
	if blank(a.Relationship) && blank(a.Reason) {
		return bi(RejectInvalidArgument, "state your relationship to the candidate", "sebutkan hubungan Anda dengan peserta")
	}
	if m := checkText("relationship", "hubungan", a.Relationship, false); m != nil {
		return m
	}
	if m := checkText("reason", "alasan", a.Reason, false); m != nil {
		return m
	}
	for i, id := range a.ApplicationIDs {
		if st.app(id) < 0 {
			m := errNoApplication(id)
			return &m
		}
		for _, prev := range a.ApplicationIDs[:i] {
			if prev == id {
				m := msg(RejectDuplicate, "application %s appears twice in this request", "lamaran %s tercantum dua kali dalam permintaan ini", id)
				return &m
			}
		}
		if st.recused(mem.Subject, id) {
			m := msg(RejectDuplicate, "you have already declared a conflict of interest with application %s",
				"Anda sudah menyatakan konflik kepentingan dengan lamaran %s", id)
			return &m
		}
	}
	return nil
}

func (s *selection) declareConflict(ctx workflow.Context, a DeclareConflictArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkDeclareConflict(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			for _, id := range a.ApplicationIDs {
				next.Recusals = append(next.Recusals, Recusal{Member: a.Actor.Subject, ApplicationID: id, Relationship: a.Relationship, Reason: a.Reason, At: now})
				app := &next.Applications[next.app(id)]
				// Scores given before the declaration cannot stand.
				kept := app.Interview[:0]
				for _, ms := range app.Interview {
					if ms.Member != a.Actor.Subject {
						kept = append(kept, ms)
					}
				}
				app.Interview = kept
				if len(app.Interview) == 0 {
					app.Interview = nil
				}
			}
			return CommandRecord{Kind: CmdDeclareConflict, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{DeclareConflict: &a}}
		})
}

func (s *selection) checkCancel(_ time.Time, a CancelArgs) *Message {
	if m := admin(a.Actor); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	return checkText("reason for the cancellation", "alasan pembatalan", a.Reason, true)
}

func (s *selection) cancel(ctx workflow.Context, a CancelArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkCancel(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			from := next.Stage
			var changes []ApplicationChange
			for i := range next.Applications {
				app := &next.Applications[i]
				if app.State.active() {
					app.State, app.Reason = AppNotSelected, a.Reason
					changes = append(changes, ApplicationChange{ApplicationID: app.ID, State: AppNotSelected, Stage: from, Reason: a.Reason})
				}
			}
			next.Stage, next.Phase = StageCancelled, ""
			next.Cancellation = &Cancellation{By: a.Actor, Reason: a.Reason, At: now, Stage: from}
			m := bi(CmdCancel, fmt.Sprintf("The selection was cancelled during %s: %s", stageName(from).EN, a.Reason),
				fmt.Sprintf("Seleksi dibatalkan pada tahap %s: %s", stageName(from).ID, a.Reason))
			return CommandRecord{Kind: CmdCancel, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{Cancel: &a}, Applications: changes, Message: m}
		})
}

func (s *selection) checkSupplyHolidays(_ time.Time, a SupplyHolidaysArgs) *Message {
	if m := admin(a.Actor); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	if len(a.Years) == 0 {
		return bi(RejectInvalidArgument, "supply at least one year's holiday list", "lengkapi paling sedikit daftar hari libur satu tahun")
	}
	cur := s.cal()
	for _, y := range a.Years {
		if cur.Covers(y.Year) {
			m := msg(RejectDuplicate, "the holiday list for %d is already part of this selection and cannot be changed",
				"daftar hari libur tahun %d sudah menjadi bagian seleksi ini dan tidak dapat diubah", y.Year)
			return &m
		}
	}
	if _, err := calendar.New(cur.Zone, append(slices.Clone(cur.Years), a.Years...)); err != nil {
		m := calendarMessage(err)
		m.Code = RejectInvalidArgument
		return &m
	}
	return checkText("reason", "alasan", a.Reason, false)
}

func (s *selection) supplyHolidays(ctx workflow.Context, a SupplyHolidaysArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkSupplyHolidays(now, a) },
		func(next *SelectionState, _ time.Time, _ *UpdateResult) CommandRecord {
			for _, y := range a.Years {
				y.Source = calendar.SourceSelection
				y.Days = slices.Clone(y.Days)
				next.Holidays = append(next.Holidays, y)
			}
			return CommandRecord{Kind: CmdSupplyHolidays, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{SupplyHolidays: &a}}
		})
}

// status explains an application's state to its candidate.
func (s *selection) status(a *Application) ApplicationStatus { return statusOf(s.st, a) }

// statusOf is the status of application a in selection state sel.
func statusOf(sel *SelectionState, a *Application) ApplicationStatus {
	st := ApplicationStatus{ApplicationID: a.ID, State: a.State, SelectionStage: sel.Stage, EliminatedAt: a.EliminatedAt, Reason: a.Reason, Rank: a.Rank}
	cur := stageName(sel.Stage)
	switch a.State {
	case AppSubmitted:
		st.Status = Message{Code: string(a.State), EN: "Your application was received and is being screened.", ID: "Lamaran Anda telah diterima dan sedang diperiksa."}
	case AppInProgress:
		st.Status = Message{Code: string(a.State), EN: fmt.Sprintf("You are taking part in %s.", cur.EN), ID: fmt.Sprintf("Anda sedang mengikuti tahap %s.", cur.ID)}
	case AppEliminated:
		n := stageName(a.EliminatedAt)
		st.Status = Message{Code: string(a.State), EN: fmt.Sprintf("You did not pass %s: %s", n.EN, a.Reason), ID: fmt.Sprintf("Anda tidak lulus tahap %s: %s", n.ID, a.Reason)}
	case AppWithdrawn:
		st.Status = Message{Code: string(a.State), EN: "You withdrew your application.", ID: "Anda telah menarik lamaran."}
	case AppShortlisted:
		st.Status = Message{Code: string(a.State), EN: fmt.Sprintf("You are rank %d of the names proposed to the appointing official.", a.Rank),
			ID: fmt.Sprintf("Anda berada pada peringkat %d dari nama yang diusulkan kepada Pejabat Pembina Kepegawaian.", a.Rank)}
	case AppAppointed:
		st.Status = Message{Code: string(a.State), EN: "You were chosen for appointment.", ID: "Anda terpilih untuk diangkat."}
	case AppNotSelected:
		st.Status = Message{Code: string(a.State), EN: "You were not selected. " + a.Reason, ID: "Anda tidak terpilih. " + a.Reason}
	}
	if sel.Stage == StageCancelled && sel.Cancellation != nil {
		st.Status.EN += " The selection was cancelled: " + sel.Cancellation.Reason
		st.Status.ID += " Seleksi dibatalkan: " + sel.Cancellation.Reason
	}
	return st
}
