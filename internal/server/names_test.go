package server

import (
	"testing"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

func TestStageSlugs(t *testing.T) {
	// Every stage that publishes a result has a slug that maps back to it, and the slugs
	// are exactly those the proto's GetStageResult name pattern accepts.
	want := map[string]string{
		"STAGE_ANNOUNCEMENT": "announcement", "STAGE_ADMINISTRATIVE_SCREENING": "administrative-screening",
		"STAGE_COMPETENCY_TEST": "competency-test", "STAGE_INTERVIEW": "interview", "STAGE_COMMITTEE_DECISION": "committee-decision",
	}
	for stage, slug := range want {
		if got := stageSlug(stage); got != slug {
			t.Errorf("stageSlug(%s) = %q, want %q", stage, got, slug)
		}
		if got := stageFromSlug(slug); got != stage {
			t.Errorf("stageFromSlug(%q) = %q, want %s", slug, got, stage)
		}
	}
	for _, s := range []string{seleksiv1.Stage_STAGE_CLOSED.String(), seleksiv1.Stage_STAGE_UNSPECIFIED.String(), ""} {
		if stageSlug(s) != "" {
			t.Errorf("stage %q has a slug", s)
		}
	}
	if stageFromSlug("") != "" || stageFromSlug("closed") != "" {
		t.Error("unknown slugs map to a stage")
	}
}

func TestSegments(t *testing.T) {
	name := "selections/kadis-2026/applications/app-1/objections/interview"
	if got := segments(name); len(got) != 3 || got[0] != "kadis-2026" || got[1] != "app-1" || got[2] != "interview" {
		t.Errorf("segments = %v", got)
	}
	if segment(name, 3) != "" || segment("selections/x", 0) != "x" {
		t.Error("segment out of range or first segment wrong")
	}
}

// TestObjectionNameRoundTrip: an objection's resource name carries the stage's slug for the
// first publication's window (unchanged from before revisions counted) and the slug with
// "-r<revision>" for a window a chair's correction opened, and AnswerObjection's parsing of
// the name gives back the workflow's objection ID; names no objection can have are refused.
func TestObjectionNameRoundTrip(t *testing.T) {
	tests := []struct {
		id, slug string
	}{
		{"ADMINISTRATIVE_SCREENING:app-1", "administrative-screening"},
		{"INTERVIEW:app-1", "interview"},
		{"ADMINISTRATIVE_SCREENING-r2:app-1", "administrative-screening-r2"},
		{"COMPETENCY_TEST-r3:app-1", "competency-test-r3"},
		{"COMMITTEE_DECISION-r12:app-1", "committee-decision-r12"},
	}
	for _, tt := range tests {
		stage, revision, appID, ok := workflows.ParseObjectionID(tt.id)
		if !ok || appID != "app-1" {
			t.Fatalf("ParseObjectionID(%q) = %s %d %q %v", tt.id, stage, revision, appID, ok)
		}
		if got := workflows.ObjectionRevisionID(stage, revision, appID); got != tt.id {
			t.Errorf("ObjectionRevisionID(%s, %d) = %q, want %q", stage, revision, got, tt.id)
		}
		v := objectionView(store.Objection{SelectionID: "kadis-2026", ID: tt.id, ApplicationID: appID, Stage: string(stage)}, nil)
		want := "selections/kadis-2026/applications/app-1/objections/" + tt.slug
		if v.GetRevision() != uint32(revision) {
			t.Errorf("revision of %q = %d, want %d", tt.id, v.GetRevision(), revision)
		}
		if v.GetName() != want {
			t.Errorf("name of %q = %q, want %q", tt.id, v.GetName(), want)
		}
		s, r, ok := objectionFromSlug(segment(v.GetName(), 2))
		if !ok || workflows.ObjectionRevisionID(workflows.Stage(s), r, segment(v.GetName(), 1)) != tt.id {
			t.Errorf("name %q parses back to %s %d %v, want %q", v.GetName(), s, r, ok, tt.id)
		}
	}
	for _, slug := range []string{"", "closed", "interview-r1", "interview-r0", "interview-r02", "interview-r", "interview-rx",
		"nostage-r2", "-r2", "announcement-r2x"} {
		if s, r, ok := objectionFromSlug(slug); ok {
			t.Errorf("objectionFromSlug(%q) = %s %d, want refused", slug, s, r)
		}
	}
	for _, id := range []string{"", "INTERVIEW", ":app-1", "INTERVIEW:", "INTERVIEW-r1:app-1", "INTERVIEW-r02:app-1", "INTERVIEW-rx:app-1"} {
		if _, _, _, ok := workflows.ParseObjectionID(id); ok {
			t.Errorf("ParseObjectionID(%q) accepted", id)
		}
	}
}
