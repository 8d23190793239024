package workflows

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestChecklistsTravelCompacted: a continued run's input carries each checklist as its
// decided items only, and the next run rebuilds exactly the checklist the last run had,
// proposals, findings, verdicts and objection flips included; a checklist whose pre-fill the
// next run could not recompute travels whole. Without this, a selection of a few thousand
// applications could not continue as new (Temporal refuses payloads over 2 MB).
func TestChecklistsTravelCompacted(t *testing.T) {
	r := checklistInput(t, false).Requirements
	list := checklistStore(t).snapshots[0]
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	st := &SelectionState{Checklist: true, Stage: StageAdministrativeScreening}
	for i, s := range list {
		a := Application{ID: s.ID, Facts: s.Facts, Checklist: prefill(r, s.Facts)}
		switch i {
		case 0: // every item confirmed in one batch
			vs := make([]ItemVerdict, 0, len(a.Checklist))
			for _, it := range a.Checklist {
				vs = append(vs, ItemVerdict{Item: it.Item, Met: true, Note: "sesuai"})
			}
			applyItemVerdicts(&a, vs, "act-sekretaris", at)
		case 1: // one item overridden, then flipped by an objection
			applyItemVerdicts(&a, []ItemVerdict{{Item: ItemAge, Met: false, Note: "akta kelahiran berbeda"}}, "act-ketua", at)
			it := &a.Checklist[a.item(ItemAge)]
			it.Status, it.Objection = ItemMet, "administrative-screening-app-2"
		}
		st.Applications = append(st.Applications, a)
	}
	// An application whose documents are known to be none: its facts read back as unknown,
	// so its checklist must travel whole.
	none := Application{ID: "app-none", Facts: EligibilityFacts{Education: EducationBachelor, Documents: []string{}}}
	none.Checklist = prefill(r, none.Facts)
	st.Applications = append(st.Applications, none)

	full, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := json.Marshal(st.compactChecklists(r))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("state of %d applications: %d bytes whole, %d compacted", len(st.Applications), len(full), len(compact))
	if len(compact) >= len(full)*2/3 {
		t.Errorf("compacted state is %d bytes of %d: not compacted", len(compact), len(full))
	}
	var back SelectionState
	if err := json.Unmarshal(compact, &back); err != nil {
		t.Fatal(err)
	}
	back.restoreChecklists(r)
	var want SelectionState
	if err := json.Unmarshal(full, &want); err != nil {
		t.Fatal(err)
	}
	for i := range want.Applications {
		got, exp := back.Applications[i], want.Applications[i]
		if got.Decided != nil || got.Compacted || !reflect.DeepEqual(got.Checklist, exp.Checklist) {
			t.Errorf("%s restored as %+v\nwant %+v", exp.ID, got.Checklist, exp.Checklist)
		}
	}
	// The live state is untouched by compacting a copy.
	if st.Applications[0].Checklist == nil || st.Applications[0].Decided != nil {
		t.Error("compacting changed the live state")
	}
}
