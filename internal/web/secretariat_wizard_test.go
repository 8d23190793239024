package web

import (
	"net/url"
	"testing"
)

// TestWizardDeadlines: the wizard's three optional deadline fields reach
// Selection.deadlines; left empty they stay zero (the workflow's defaults), and a value that
// is not a number is reported beside its field.
func TestWizardDeadlines(t *testing.T) {
	tests := []struct {
		name              string
		form              url.Values
		answer, ppk, lead uint32
		bad               string
	}{
		{"empty takes the defaults", url.Values{}, 0, 0, 0, ""},
		{"all three", url.Values{"deadlines-objection_answer_working_days": {"5"}, "deadlines-appointment_due_working_days": {" 20 "},
			"deadlines-reminder_lead_working_days": {"2"}}, 5, 20, 2, ""},
		{"not a number", url.Values{"deadlines-reminder_lead_working_days": {"dua"}}, 0, 0, 0, "deadlines-reminder_lead_working_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _, local := secParseWizard(tt.form)
			d := req.GetSelection().GetDeadlines()
			if d.GetObjectionAnswerWorkingDays() != tt.answer || d.GetAppointmentDueWorkingDays() != tt.ppk || d.GetReminderLeadWorkingDays() != tt.lead {
				t.Errorf("deadlines %v, want %d/%d/%d", d, tt.answer, tt.ppk, tt.lead)
			}
			if tt.bad != "" && local[tt.bad] != "admin.form.not_a_number" {
				t.Errorf("local errors %v, want %s not a number", local, tt.bad)
			}
			if tt.bad == "" && len(local) != 0 {
				t.Errorf("local errors %v", local)
			}
		})
	}
}
