package workflows

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
)

// The stage search attribute follows the selection through every stage, so operators can
// find the selections waiting in a stage in the Temporal Web UI.
func TestStageSearchAttributeFollowsTheSelection(t *testing.T) {
	h := newHarness(t, wib(t, "2026-07-06 08:00"), happyStore(t))
	var stages []string
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if v, ok := sa.GetKeyword(temporal.NewSearchAttributeKeyKeyword(SearchAttributeStage)); ok {
			stages = append(stages, v)
		}
	}).Return(nil)
	scriptHappy(t, h)
	h.run(testInput(t))
	if r := h.result(); r.Stage != StageClosed {
		t.Fatalf("selection ended at %s", r.Stage)
	}
	want := []string{string(StageAnnouncement), string(StageAdministrativeScreening), string(StageCompetencyTest),
		string(StageInterview), string(StageCommitteeDecision), string(StageClosed)}
	if !slices.Equal(stages, want) {
		t.Errorf("stage search attribute went %v, want %v", stages, want)
	}
}
