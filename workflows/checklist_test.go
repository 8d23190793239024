package workflows

import (
	"slices"
	"testing"
)

// checklistInput is the test selection with an agency item (an integrity pact) that no data
// decides, and objections that may attach a clarifying document when documents is set.
func checklistInput(t *testing.T, documents bool) SelectionInput {
	in := testInput(t)
	in.Requirements.AdditionalItems = []RequirementItem{{ID: "pakta-integritas", Title: "Pakta integritas"}}
	in.ObjectionDocuments = documents
	return in
}

// checklistStore has five applications: 3 lacks the LHKPN, 4 states no education, 5 is 57.
func checklistStore(t *testing.T) *fakeStore {
	list := apps(5, wib(t, "2026-07-06 09:00"))
	list[2].Facts.Documents = []string{"SURAT_SEHAT"}
	list[3].Facts.Education = ""
	list[4].Facts.AgeAtClose = 57
	return &fakeStore{snapshots: [][]SnapshotApplication{list}}
}

func met(items ...string) []ItemVerdict {
	vs := make([]ItemVerdict, len(items))
	for i, it := range items {
		vs[i] = ItemVerdict{Item: it, Met: true}
	}
	return vs
}

func itemOf(a Application, id string) ChecklistItem {
	if i := a.item(id); i >= 0 {
		return a.Checklist[i]
	}
	return ChecklistItem{}
}

func TestPrefill(t *testing.T) {
	r := checklistInput(t, false).Requirements
	list := checklistStore(t).snapshots[0]
	tests := []struct {
		app  int
		want map[string]ItemStatus
		code map[string]string
	}{
		{0, map[string]ItemStatus{ItemEducation: ItemMet, ItemAge: ItemMet, "document:LHKPN": ItemMet, "pakta-integritas": ItemUnknown},
			map[string]string{ItemAge: CodeItemAgeMet, "pakta-integritas": CodeItemAgencyItem}},
		{2, map[string]ItemStatus{"document:LHKPN": ItemUnmet, "document:SURAT_SEHAT": ItemMet},
			map[string]string{"document:LHKPN": CodeItemDocumentMissing}},
		{3, map[string]ItemStatus{ItemEducation: ItemUnknown}, map[string]string{ItemEducation: CodeEligEducationUnknown}},
		{4, map[string]ItemStatus{ItemAge: ItemUnmet}, map[string]string{ItemAge: CodeEligAge}},
	}
	for _, tt := range tests {
		a := Application{ID: list[tt.app].ID, Checklist: prefill(r, list[tt.app].Facts)}
		if got := len(a.Checklist); got != 7 {
			t.Errorf("%s has %d items, want 7", a.ID, got)
		}
		if ids := ItemIDs(r); !slices.EqualFunc(ids, a.Checklist, func(id string, it ChecklistItem) bool { return id == it.Item }) {
			t.Errorf("%s items %+v not in checklist order %v", a.ID, a.Checklist, ids)
		}
		for id, st := range tt.want {
			if it := itemOf(a, id); it.Status != st || it.Proposed != st || it.By != "" {
				t.Errorf("%s %s = %+v, want %s proposed", a.ID, id, it, st)
			}
		}
		for id, c := range tt.code {
			if it := itemOf(a, id); it.Finding == nil || it.Finding.Code != c {
				t.Errorf("%s %s finding %+v, want %s", a.ID, id, it.Finding, c)
			}
		}
	}
	if f := itemOf(Application{Checklist: prefill(r, list[4].Facts)}, ItemAge).Finding; f.Params.Get("age") != "57" || f.Params.Get("max") != "56" {
		t.Errorf("age finding %+v", f)
	}
}

// TestScreeningItemByItem: the committee screens item by item. Overriding a proposal needs a
// note, an unknown item blocks publication until decided, the outcome follows from the items
// and the published result lists each eliminated candidate's unmet items.
func TestScreeningItemByItem(t *testing.T) {
	store := checklistStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	screening := StageAdministrativeScreening
	rec := func(correct bool, es ...ResultInput) RecordResultsArgs {
		a := RecordResultsArgs{Actor: committee(secretary), Stage: screening, Results: es, Correct: correct}
		if correct {
			a.Reason = "re-checked"
		}
		return a
	}
	all := []string{"pakta-integritas"}
	// An override of the automatic proposal without a note.
	noNote := h.sendAt(wib(t, "2026-07-13 08:00"), UpdateRecordResults, rec(false,
		ResultInput{ApplicationID: appID(5), Items: []ItemVerdict{{Item: ItemAge, Met: true}}}))
	unknownItem := h.sendAt(wib(t, "2026-07-13 08:01"), UpdateRecordResults, rec(false,
		ResultInput{ApplicationID: appID(1), Items: []ItemVerdict{{Item: "ijazah", Met: true}}}))
	wrongOutcome := h.sendAt(wib(t, "2026-07-13 08:02"), UpdateRecordResults, rec(false,
		ResultInput{ApplicationID: appID(1), Outcome: OutcomeFail, Reason: "x", Items: met(all...)}))
	batch := h.sendAt(wib(t, "2026-07-13 08:30"), UpdateRecordResults, rec(false,
		ResultInput{ApplicationID: appID(1), Outcome: OutcomePass, Items: met(all...)},
		ResultInput{ApplicationID: appID(2), Items: met(all...)},
		ResultInput{ApplicationID: appID(3), Items: append(met(all...), ItemVerdict{Item: "document:LHKPN", Met: false, Note: "tidak dilampirkan"})},
		// The education of 4 stays unknown for now.
		ResultInput{ApplicationID: appID(4), Items: met(all...)},
		ResultInput{ApplicationID: appID(5), Items: met(all...)},
	))
	early := h.sendAt(wib(t, "2026-07-13 09:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	again := h.sendAt(wib(t, "2026-07-13 09:10"), UpdateRecordResults, rec(false,
		ResultInput{ApplicationID: appID(1), Items: []ItemVerdict{{Item: "pakta-integritas", Met: false, Note: "x"}}}))
	education := h.sendAt(wib(t, "2026-07-13 09:30"), UpdateRecordResults, rec(false,
		ResultInput{ApplicationID: appID(4), Items: []ItemVerdict{{Item: ItemEducation, Met: true, Note: "ijazah S2 diperiksa"}}}))
	var before *SelectionState
	h.at(wib(t, "2026-07-13 09:45"), func() { before = h.state() })
	advance := h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	h.sendAt(wib(t, "2026-07-13 11:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(checklistInput(t, false))

	mustAccept(t, batch, education, advance)
	if m := mustReject(t, noNote, RejectInvalidArgument); m.Code != CodeRejectTextRequired || m.Params.Get("item") != ItemAge {
		t.Errorf("override without a note: %+v", m)
	}
	mustReject(t, unknownItem, RejectNotFound)
	mustReject(t, wrongOutcome, RejectInvalidArgument)
	m := mustReject(t, early, RejectIncomplete)
	if m.Code != "reject.incomplete.items_undecided" || m.Params.Get("application") != appID(4) || m.Params.Get("items") != ItemEducation {
		t.Errorf("publication with an unknown item: %+v", m)
	}
	mustReject(t, again, RejectDuplicate)

	a4 := before.Applications[3]
	if it := itemOf(a4, ItemEducation); it.Status != ItemMet || it.Proposed != ItemUnknown || it.By != secretary ||
		!it.At.Equal(wib(t, "2026-07-13 09:30")) || it.Note != "ijazah S2 diperiksa" {
		t.Errorf("verified item %+v", it)
	}
	if it := itemOf(a4, ItemAge); it.By != "" || it.Status != ItemMet {
		t.Errorf("an item left to its proposal %+v", it)
	}

	pub := store.find(CmdAdvance)[0].Result
	byID := map[string]ResultEntry{}
	for _, e := range pub.Entries {
		byID[e.ApplicationID] = e
	}
	for i, want := range []Outcome{OutcomePass, OutcomePass, OutcomeFail, OutcomePass, OutcomeFail} {
		if got := byID[appID(i+1)].Outcome; got != want {
			t.Errorf("%s: %s, want %s", appID(i+1), got, want)
		}
	}
	e3 := byID[appID(3)]
	if len(e3.Unmet) != 1 || e3.Unmet[0].Item != "document:LHKPN" || e3.Unmet[0].Note != "tidak dilampirkan" ||
		e3.Unmet[0].Finding.Code != CodeItemDocumentMissing || e3.ReasonMessage == nil || e3.ReasonMessage.Code != CodeReasonItemsUnmet {
		t.Errorf("app-0003 entry %+v", e3)
	}
	if e5 := byID[appID(5)]; len(e5.Unmet) != 1 || e5.Unmet[0].Item != ItemAge || e5.ReasonMessage.Params.Get("items") != ItemAge {
		t.Errorf("app-0005 entry %+v", e5)
	}
	if len(byID[appID(1)].Unmet) != 0 {
		t.Errorf("a pass lists unmet items: %+v", byID[appID(1)])
	}
	// Each verdict's record carries the checklists it changed, for the store and the audit.
	recs := store.find(CmdRecordResults)
	if len(recs) != 2 || len(recs[0].Checklists) != 5 || len(recs[1].Checklists) != 1 || recs[1].Checklists[0].ApplicationID != appID(4) {
		t.Errorf("checklists of the records: %d records", len(recs))
	}
	// The close sends no checklist; the next record sends the pre-filled ones.
	if closed := store.find(EvtClosed); len(closed) != 1 || len(closed[0].Checklists) != 0 {
		t.Errorf("the close record %+v", closed)
	}
	proposed := store.find(EvtChecklistsProposed)
	if len(proposed) != 1 || len(proposed[0].Checklists) != 5 || len(proposed[0].Checklists[2].Items) != 7 ||
		proposed[0].Checklists[2].Items[4].Status != ItemUnmet {
		t.Errorf("the pre-filled checklists sent: %+v", proposed)
	}
}

// TestObjectionItemByItem: candidates object to unmet items; the committee answers item by
// item, an accepted item flips to met, the outcome is recomputed and the result re-published;
// a document needs the selection's leave.
func TestObjectionItemByItem(t *testing.T) {
	for _, documents := range []bool{false, true} {
		t.Run(map[bool]string{false: "no new documents", true: "documents allowed"}[documents], func(t *testing.T) {
			store := checklistStore(t)
			store.snapshots[0][4].Facts.Documents = []string{"SURAT_SEHAT"} // 5: too old and no LHKPN
			h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
			screening := StageAdministrativeScreening
			all := met("pakta-integritas")
			h.sendAt(wib(t, "2026-07-13 08:30"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
				Results: []ResultInput{
					{ApplicationID: appID(1), Items: all}, {ApplicationID: appID(2), Items: all}, {ApplicationID: appID(3), Items: all},
					{ApplicationID: appID(4), Items: append(met("pakta-integritas"), ItemVerdict{Item: ItemEducation, Met: true})},
					{ApplicationID: appID(5), Items: all},
				}})
			h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
			notUnmet := h.sendAt(wib(t, "2026-07-14 08:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(3), ApplicationID: appID(3),
				Stage: screening, Reason: "x", Items: []string{ItemAge}})
			withDoc := h.sendAt(wib(t, "2026-07-14 08:30"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(3), ApplicationID: appID(3),
				Stage: screening, Reason: "LHKPN terlampir", Items: []string{"document:LHKPN"}, Document: "documents/doc-123"})
			file5 := h.sendAt(wib(t, "2026-07-14 09:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5),
				Stage: screening, Reason: "LHKPN sudah diunggah; usia salah hitung", Items: []string{ItemAge, "document:LHKPN"}})
			unanswered := h.sendAt(wib(t, "2026-07-14 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
				ObjectionID: ObjectionID(screening, appID(5)), Accept: true, Answer: "sebagian",
				Items: []ItemAnswer{{Item: "document:LHKPN", Accepted: true, Answer: "ada di berkas"}}})
			partly := h.sendAt(wib(t, "2026-07-14 10:30"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
				ObjectionID: ObjectionID(screening, appID(5)), Accept: true, Answer: "sebagian diterima",
				Items: []ItemAnswer{{Item: "document:LHKPN", Accepted: true, Answer: "ada di berkas"}, {Item: ItemAge, Answer: "akta kelahiran menunjukkan 57 tahun"}}})
			var after *SelectionState
			h.at(wib(t, "2026-07-14 11:00"), func() { after = h.state() })
			h.sendAt(wib(t, "2026-07-14 12:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
			h.run(checklistInput(t, documents))

			mustAccept(t, file5, partly)
			mustReject(t, notUnmet, RejectInvalidArgument)
			if m := mustReject(t, unanswered, RejectIncomplete); m.Params.Get("item") != ItemAge {
				t.Errorf("unanswered item %+v", m)
			}
			if documents {
				mustAccept(t, withDoc)
			} else if m := mustReject(t, withDoc, RejectInvalidArgument); m.Code != "reject.invalid_argument.objection_document_not_allowed" {
				t.Errorf("document refused with %+v", m)
			}
			a5 := after.Applications[4]
			lhkpn := itemOf(a5, "document:LHKPN")
			if lhkpn.Status != ItemMet || lhkpn.Objection != ObjectionID(screening, appID(5)) || lhkpn.By != chair || lhkpn.Note != "ada di berkas" {
				t.Errorf("accepted item %+v", lhkpn)
			}
			if itemOf(a5, ItemAge).Status != ItemUnmet || a5.State != AppEliminated {
				t.Errorf("app-0005 after the answer: %s %+v", a5.State, itemOf(a5, ItemAge))
			}
			answers := store.find(CmdAnswerObjection)
			if len(answers) != 1 || answers[0].Result == nil || answers[0].Result.Revision != 2 || len(answers[0].Checklists) != 1 {
				t.Fatalf("answer records %+v", answers)
			}
			o := answers[0].Objection
			if o.State != ObjectionAccepted || len(o.ItemAnswers) != 2 || !slices.Equal(o.Items, []string{ItemAge, "document:LHKPN"}) {
				t.Errorf("objection %+v", o)
			}
			for _, e := range answers[0].Result.Entries {
				if e.ApplicationID == appID(5) && (e.Outcome != OutcomeFail || len(e.Unmet) != 1 || e.Unmet[0].Item != ItemAge) {
					t.Errorf("re-published entry %+v", e)
				}
			}
		})
	}
}

// TestObjectionFlipsLastUnmetItem: accepting the only unmet item makes the candidate pass.
func TestObjectionFlipsLastUnmetItem(t *testing.T) {
	store := checklistStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	screening := StageAdministrativeScreening
	all := met("pakta-integritas")
	h.sendAt(wib(t, "2026-07-13 08:30"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Results: []ResultInput{
			{ApplicationID: appID(1), Items: all}, {ApplicationID: appID(2), Items: all}, {ApplicationID: appID(3), Items: all},
			{ApplicationID: appID(4), Items: append(met("pakta-integritas"), ItemVerdict{Item: ItemEducation, Met: true})},
			{ApplicationID: appID(5), Items: all},
		}})
	h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	file := h.sendAt(wib(t, "2026-07-14 09:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(3), ApplicationID: appID(3),
		Stage: screening, Reason: "LHKPN diunggah tepat waktu", Items: []string{"document:LHKPN"}})
	accept := h.sendAt(wib(t, "2026-07-14 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionID(screening, appID(3)), Accept: true, Answer: "diterima",
		Items: []ItemAnswer{{Item: "document:LHKPN", Accepted: true, Answer: "berkas ditemukan"}}})
	var after *SelectionState
	h.at(wib(t, "2026-07-14 11:00"), func() { after = h.state() })
	h.sendAt(wib(t, "2026-07-14 12:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(checklistInput(t, false))
	mustAccept(t, file, accept)
	if a3 := after.Applications[2]; a3.State != AppInProgress {
		t.Errorf("app-0003 after its only unmet item was accepted: %s", a3.State)
	}
	r := store.find(CmdAnswerObjection)[0].Result
	if r == nil || r.Revision != 2 || r.Entries[2].Outcome != OutcomePass || len(r.Entries[2].Unmet) != 0 {
		t.Errorf("re-published %+v", r)
	}
}

// TestChecklistsProposedInChunks: a large selection's pre-filled checklists reach the store
// in records of at most checklistChunk applications, all of them, before anything else.
func TestChecklistsProposedInChunks(t *testing.T) {
	store := &fakeStore{snapshots: [][]SnapshotApplication{apps(2*checklistChunk+10, wib(t, "2026-07-06 09:00"))}}
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	var st *SelectionState
	h.at(wib(t, "2026-07-13 08:00"), func() { st = h.state() })
	h.sendAt(wib(t, "2026-07-13 09:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(checklistInput(t, false))
	proposed := store.find(EvtChecklistsProposed)
	var sizes []int
	seen := map[string]bool{}
	for _, r := range proposed {
		sizes = append(sizes, len(r.Checklists))
		for _, cl := range r.Checklists {
			seen[cl.ApplicationID] = true
		}
	}
	if !slices.Equal(sizes, []int{checklistChunk, checklistChunk, 10}) || len(seen) != 2*checklistChunk+10 {
		t.Errorf("chunks %v covering %d applications", sizes, len(seen))
	}
	if st.ChecklistsSent != 2*checklistChunk+10 || st.checklistsPending() {
		t.Errorf("state after the proposals: sent %d", st.ChecklistsSent)
	}
	kinds := store.kinds()
	if i := slices.Index(kinds, EvtClosed); i < 0 || kinds[i+1] != EvtChecklistsProposed || kinds[i+3] != EvtChecklistsProposed {
		t.Errorf("record order %v", kinds)
	}
}
