package server

import (
	"testing"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
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
