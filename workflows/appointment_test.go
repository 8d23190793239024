package workflows

import (
	"encoding/json"
	"testing"
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
