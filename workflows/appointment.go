package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"
)

// The appointment: the appointing official (PPK) chooses one of the shortlisted names (rank 1
// is not binding), the oversight body's recommendation is recorded by its reference, and the
// selection closes.

// ChangeIDAppointmentJustification marks runs in which choosing rank 2 or 3 needs a written
// justification, which is published with the appointment; the free-text reason is then an
// optional note. Runs recorded before keep requiring the reason, so that an appointment they
// accepted is never refused on replay.
const ChangeIDAppointmentJustification = "appointment-justification"

// Appointment is the recorded choice.
type Appointment struct {
	ApplicationID string `json:"applicationId"`
	Rank          int    `json:"rank"`
	// PPKDecreeRef is the reference of the PPK's appointment decree (see AppointArgs; the
	// JSON name is the one recorded states carry).
	PPKDecreeRef               string `json:"appointingOfficial"`
	OversightRecommendationRef string `json:"oversightRecommendationRef"`
	Reason                     string `json:"reason,omitempty"`
	// Justification is the PPK's written reason for choosing rank 2 or 3, published with the
	// appointment (see ChangeIDAppointmentJustification).
	Justification string    `json:"justification,omitempty"`
	By            Actor     `json:"by"`
	At            time.Time `json:"at"`
}

func (s *selection) checkAppoint(_ time.Time, a AppointArgs) *Message {
	if m := admin(a.Actor); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	st := s.st
	if st.Stage != StageCommitteeDecision || st.Phase != PhaseAppointment {
		m := code("reject.wrong_stage.appointment_early")
		return &m
	}
	i := st.app(a.ApplicationID)
	if i < 0 {
		m := errNoApplication(a.ApplicationID)
		return &m
	}
	app := &st.Applications[i]
	if app.State != AppShortlisted {
		m := code("reject.invalid_argument.not_on_shortlist", "application", app.ID)
		return &m
	}
	if m := checkText("ppk_decree_ref", a.PPKDecreeRef, true); m != nil {
		return m
	}
	if m := checkText("oversight_reference", a.OversightRecommendationRef, true); m != nil {
		return m
	}
	if s.justify {
		if m := checkText("justification", a.Justification, app.Rank != 1); m != nil {
			if blank(a.Justification) {
				m := code("reject.incomplete.rank_justification", "rank", strconv.Itoa(app.Rank))
				return &m
			}
			return m
		}
		return checkText("reason", a.Reason, false)
	}
	if m := checkText("reason", a.Reason, app.Rank != 1); m != nil {
		if blank(a.Reason) {
			m := code("reject.incomplete.rank_reason", "rank", strconv.Itoa(app.Rank))
			return &m
		}
		return m
	}
	return nil
}

func (s *selection) appoint(ctx workflow.Context, a AppointArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkAppoint(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			chosen := &next.Applications[next.app(a.ApplicationID)]
			next.Appointment = &Appointment{
				ApplicationID: chosen.ID, Rank: chosen.Rank, PPKDecreeRef: a.PPKDecreeRef,
				OversightRecommendationRef: a.OversightRecommendationRef, Reason: a.Reason, Justification: a.Justification,
				By: a.Actor, At: now,
			}
			var changes []ApplicationChange
			for i := range next.Applications {
				app := &next.Applications[i]
				switch {
				case app.ID == chosen.ID:
					app.State = AppAppointed
				case app.State == AppShortlisted:
					app.State = AppNotSelected
				default:
					continue
				}
				changes = append(changes, ApplicationChange{ApplicationID: app.ID, State: app.State, Stage: StageClosed, Rank: app.Rank})
			}
			next.Stage, next.Phase, next.StageOpenedAt = StageClosed, "", now
			m := code(CodeEventAppointed, "rank", strconv.Itoa(chosen.Rank))
			return CommandRecord{Kind: CmdAppoint, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{Appoint: &a}, Applications: changes, Message: &m}
		})
}
