package workflows

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAppointmentDecreeDecodesRecordedJSON: the appointment is identified by the PPK's decree
// reference end to end; histories and states recorded before the field had that name carry
// it as appointingOfficial, and must decode into the same field.
func TestAppointmentDecreeDecodesRecordedJSON(t *testing.T) {
	var args AppointArgs
	if err := json.Unmarshal([]byte(`{"applicationId":"app-0002","appointingOfficial":"800/123/2026","oversightRecommendationRef":"R-1/BKN/2026"}`), &args); err != nil {
		t.Fatal(err)
	}
	var ap Appointment
	if err := json.Unmarshal([]byte(`{"applicationId":"app-0002","rank":1,"appointingOfficial":"800/123/2026"}`), &ap); err != nil {
		t.Fatal(err)
	}
	if args.PPKDecreeRef != "800/123/2026" || ap.PPKDecreeRef != "800/123/2026" {
		t.Errorf("decoded %+v and %+v", args, ap)
	}
	// And they encode as recorded, so that digests of recorded arguments still match.
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["appointingOfficial"] != "800/123/2026" {
		t.Errorf("encoded %s", b)
	}
}

// TestAppointJustification: choosing a name the committee did not rank first needs a written
// justification; rank 1 needs none; selections from before the justification keep needing
// the free-text reason instead (their histories replay as recorded).
func TestAppointJustification(t *testing.T) {
	shortlisted := func(rank int) *SelectionState {
		return &SelectionState{Stage: StageCommitteeDecision, Phase: PhaseAppointment, Applications: []Application{
			{ID: "app-1", State: AppShortlisted, Rank: rank},
		}}
	}
	args := func(reason, justification string) AppointArgs {
		return AppointArgs{Actor: adminActor, ApplicationID: "app-1", PPKDecreeRef: "800/1/2026",
			OversightRecommendationRef: "R-1/BKN/2026", Reason: reason, Justification: justification}
	}
	tests := []struct {
		name    string
		justify bool
		rank    int
		args    AppointArgs
		want    string // the rejection code, "" for accepted
	}{
		{"rank 1 without justification", true, 1, args("", ""), ""},
		{"rank 2 without justification", true, 2, args("", ""), "reject.incomplete.rank_justification"},
		{"rank 2 with only a reason", true, 2, args("a note", ""), "reject.incomplete.rank_justification"},
		{"rank 2 with a blank justification", true, 2, args("", "  "), "reject.incomplete.rank_justification"},
		{"rank 2 with justification", true, 2, args("", "led the programme"), ""},
		{"rank 3 with justification", true, 3, args("", "led the programme"), ""},
		{"rank 3 justification too long", true, 3, args("", strings.Repeat("x", MaxReasonLength+1)), CodeRejectTextTooLong},
		{"before: rank 2 with a reason", false, 2, args("a note", ""), ""},
		{"before: rank 2 with only a justification", false, 2, args("", "led the programme"), "reject.incomplete.rank_reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &selection{st: shortlisted(tt.rank), justify: tt.justify}
			m := s.checkAppoint(time.Time{}, tt.args)
			switch {
			case tt.want == "" && m != nil:
				t.Errorf("refused with %s, want accepted", m.Code)
			case tt.want != "" && m == nil:
				t.Errorf("accepted, want %s", tt.want)
			case tt.want != "" && m.Code != tt.want:
				t.Errorf("refused with %s, want %s", m.Code, tt.want)
			}
		})
	}
}
