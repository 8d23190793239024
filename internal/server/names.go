package server

import (
	"strconv"
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

// objectionName: an application has at most one objection per objection window of a stage
// (workflows.ObjectionRevisionID), so the objection's ID in its name is the stage's slug for
// the window of the first publication ("interview") and the slug with the revision for the
// window a chair's correction opened ("interview-r2").
func objectionName(selectionID, appID, stage string, revision int) string {
	return applicationName(selectionID, appID) + "/objections/" + objectionSlug(stage, revision)
}

// objectionSlug is the objection's ID in its resource name (see objectionName).
func objectionSlug(stage string, revision int) string {
	if revision > 1 {
		return stageSlug(stage) + "-r" + strconv.Itoa(revision)
	}
	return stageSlug(stage)
}

// objectionFromSlug maps the objection's ID in its resource name back to its stage and
// revision; ok is false for a name no objection can have.
func objectionFromSlug(slug string) (stage string, revision int, ok bool) {
	if stage := stageFromSlug(slug); stage != "" {
		return stage, 1, true
	}
	i := strings.LastIndex(slug, "-r")
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(slug[i+2:])
	stage = stageFromSlug(slug[:i])
	// The canonical form only: "-r02" or "-r1" would be a second name for one objection.
	if err != nil || n < 2 || stage == "" || strconv.Itoa(n) != slug[i+2:] {
		return "", 0, false
	}
	return stage, n, true
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
