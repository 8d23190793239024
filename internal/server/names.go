package server

import (
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/workflows"
)

// Resource names (AIP-122). The protos' validation rules guarantee their shape before a
// handler runs, so parsing here only splits them.

func selectionName(id string) string { return "selections/" + id }

func applicationName(selectionID, appID string) string {
	return "selections/" + selectionID + "/applications/" + appID
}

// objectionName: an application has at most one objection per stage, so the stage's slug is
// the objection's ID.
func objectionName(selectionID, appID, stage string) string {
	return applicationName(selectionID, appID) + "/objections/" + stageSlug(stage)
}

// segments returns the IDs in a resource name: selections/A/applications/B -> [A, B].
func segments(name string) []string {
	parts := strings.Split(name, "/")
	ids := make([]string, 0, len(parts)/2)
	for i := 1; i < len(parts); i += 2 {
		ids = append(ids, parts[i])
	}
	return ids
}

// segment returns the i-th ID of a resource name, or "".
func segment(name string, i int) string {
	s := segments(name)
	if i < len(s) {
		return s[i]
	}
	return ""
}

// stageSlug is the stage's name in URLs (results/{stage}, objections/{stage}), or "".
func stageSlug(stage string) string {
	switch stage {
	case "STAGE_ANNOUNCEMENT":
		return "announcement"
	case "STAGE_ADMINISTRATIVE_SCREENING":
		return "administrative-screening"
	case "STAGE_COMPETENCY_TEST":
		return "competency-test"
	case "STAGE_INTERVIEW":
		return "interview"
	case "STAGE_COMMITTEE_DECISION":
		return "committee-decision"
	}
	return ""
}

// stageFromSlug maps a URL slug back to the stage's enum name, or "".
func stageFromSlug(slug string) string {
	for _, stage := range []string{"STAGE_ANNOUNCEMENT", "STAGE_ADMINISTRATIVE_SCREENING", "STAGE_COMPETENCY_TEST",
		"STAGE_INTERVIEW", "STAGE_COMMITTEE_DECISION"} {
		if slug != "" && stageSlug(stage) == slug {
			return stage
		}
	}
	return ""
}

func protoStage(s string) seleksiv1.Stage { return seleksiv1.Stage(seleksiv1.Stage_value[s]) }

func protoState(s string) seleksiv1.ApplicationState {
	return seleksiv1.ApplicationState(seleksiv1.ApplicationState_value[s])
}

func protoOutcome(s string) seleksiv1.Outcome { return seleksiv1.Outcome(seleksiv1.Outcome_value[s]) }

func protoComponent(s string) seleksiv1.ScoreComponent {
	return seleksiv1.ScoreComponent(seleksiv1.ScoreComponent_value[s])
}

func wfStage(s seleksiv1.Stage) workflows.Stage { return workflows.Stage(s.String()) }
