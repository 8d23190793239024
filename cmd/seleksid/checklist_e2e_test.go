package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// checklistItemJSON is a ChecklistItem as the gateway shows it.
type checklistItemJSON struct {
	Item           string        `json:"item"`
	Status         string        `json:"status"`
	ProposedStatus string        `json:"proposedStatus"`
	Finding        localizedJSON `json:"finding"`
	Note           string        `json:"note"`
	VerifiedBy     string        `json:"verifiedBy"`
	VerifyTime     string        `json:"verifyTime"`
	Objection      string        `json:"objection"`
}

type unmetJSON struct {
	Item    string        `json:"item"`
	Title   localizedJSON `json:"title"`
	Finding localizedJSON `json:"finding"`
	Note    string        `json:"note"`
}

// TestChecklistEndToEnd: administrative screening item by item through REST. The close
// pre-fills each application's checklist (candidate 5 is over the age limit, the agency's
// integrity pact is for the committee to decide); the committee records per-item verdicts in
// one batch, an override without a note and publication with an undecided item are refused;
// the published result lists the eliminated candidates' unmet items; candidates object to
// their unmet items, one with a clarifying document of their own (a missing document or
// another candidate's is refused); the committee answers item by item, an accepted item flips to met and the result is
// re-published as revision 2; and verification replays the history and finds the store in
// agreement, checklists included. SQLite only: the store's projection of the checklist is
// tested on PostgreSQL by the store suite.
func TestChecklistEndToEnd(t *testing.T) {
	_, e := startStack(t, stackDatabases()[0], "items-")
	committee := []string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"}
	e.admin = e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	chair := e.tok.mint(auth.RoleCommittee, "ketua", e.id)
	secretary := e.tok.mint(auth.RoleCommittee, "sekretaris", e.id)
	body := selectionBody(committee)
	body["requirements"].(map[string]any)["additionalItems"] = []map[string]any{{"id": "pakta-integritas", "title": "Pakta integritas"}}
	// Objections may bring a clarifying document (kind objection), which the real document
	// store checks: only the objecting candidate's own.
	body["documentPolicy"] = map[string]any{"objectionDocuments": true}
	e.must(http.MethodPost, "/v1/selections?requestId="+e.reqID("create")+"&selectionId="+e.id, e.admin, body, nil)
	for deadline := time.Now().Add(10 * time.Second); e.getSelection(e.id).StageCloseTime == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("the announcement window never opened")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.cands, e.apps = []string{""}, []string{""}
	for i := 1; i <= 5; i++ {
		e.cands = append(e.cands, e.tok.mint(auth.RoleCandidate, fmt.Sprintf("kandidat-%d", i)))
		var got struct{ Application applicationJSON }
		e.must(http.MethodPost, e.sel()+"/applications?requestId="+e.reqID(fmt.Sprintf("apply%d", i)), e.cands[i], e.withDocuments(applicationBody(i), e.cands[i], e.id), &got)
		e.apps = append(e.apps, got.Application.Name)
	}
	e.waitStage(e.id, "STAGE_ADMINISTRATIVE_SCREENING", 90*time.Second)

	checklist := func(i int, token string) map[string]checklistItemJSON {
		t.Helper()
		var got struct {
			Application struct {
				Checklist []checklistItemJSON `json:"checklist"`
			}
		}
		e.must(http.MethodGet, "/v1/"+e.apps[i], token, nil, &got)
		out := map[string]checklistItemJSON{}
		for _, it := range got.Application.Checklist {
			out[it.Item] = it
		}
		return out
	}
	// --- The close pre-filled the checklist from the facts; the proposals reach the store
	// in the record right after the close's. ---
	c5 := checklist(5, e.cands[5])
	for deadline := time.Now().Add(10 * time.Second); len(c5) == 0 && time.Now().Before(deadline); c5 = checklist(5, e.cands[5]) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(c5) != 7 || c5["age"].Status != "REQUIREMENT_STATUS_UNMET" || c5["education"].Status != "REQUIREMENT_STATUS_MET" ||
		c5["pakta-integritas"].Status != "REQUIREMENT_STATUS_UNKNOWN" || c5["document:lhkpn"].Status != "REQUIREMENT_STATUS_MET" ||
		!strings.Contains(c5["age"].Finding.ID, "56") || c5["age"].VerifiedBy != "" {
		t.Fatalf("candidate 5's checklist at the close: %+v", c5)
	}

	// --- Per-item verdicts in one batch; refusals first. ---
	items := func(i int, extra ...map[string]any) map[string]any {
		its := append([]map[string]any{{"item": "pakta-integritas", "met": true}}, extra...)
		return map[string]any{"application": e.apps[i], "items": its}
	}
	record := func(tag string, results ...map[string]any) reply {
		return e.do(http.MethodPost, e.sel()+":recordResults", secretary, map[string]any{"requestId": e.reqID(tag),
			"stage": "STAGE_ADMINISTRATIVE_SCREENING", "results": results})
	}
	if r := record("no-note", items(4, map[string]any{"item": "document:lhkpn", "met": false})); r.code != http.StatusBadRequest ||
		!strings.Contains(string(r.body), "document:lhkpn") {
		t.Errorf("overriding a proposal without a note: %s, want 400 naming the item", r)
	}
	if r := record("partial", items(1), items(2), items(3)); r.code != http.StatusOK {
		t.Fatalf("per-item verdicts: %s", r)
	}
	// The refusal names the first undecided application as an example: 4 or 5.
	appID := func(i int) string { return strings.TrimPrefix(e.apps[i], "selections/"+e.id+"/applications/") }
	if r := e.do(http.MethodPost, e.sel()+":advance", chair, map[string]any{"requestId": e.reqID("early"), "expectedStage": "STAGE_ADMINISTRATIVE_SCREENING"}); r.code < 400 ||
		!strings.Contains(string(r.body), "2 ") || !(strings.Contains(string(r.body), appID(4)) || strings.Contains(string(r.body), appID(5))) {
		t.Errorf("publishing with undecided items: %s, want a refusal naming 2 applications and application 4 or 5", r)
	}
	if r := record("rest", items(4, map[string]any{"item": "document:lhkpn", "met": false, "note": "LHKPN tahun 2019, bukan yang terbaru"}), items(5)); r.code != http.StatusOK {
		t.Fatalf("per-item verdicts: %s", r)
	}
	if it := checklist(4, chair)["document:lhkpn"]; it.Status != "REQUIREMENT_STATUS_UNMET" || it.ProposedStatus != "REQUIREMENT_STATUS_MET" ||
		it.VerifiedBy != "sekretaris" || it.VerifyTime == "" || it.Note == "" {
		t.Errorf("overridden item as the committee sees it: %+v", it)
	}

	// --- Published: the eliminated candidates' unmet items. ---
	e.advance(chair, "STAGE_ADMINISTRATIVE_SCREENING")
	var published struct {
		Result struct {
			Revision int `json:"revision"`
			Entries  []struct {
				Application string      `json:"application"`
				Outcome     string      `json:"outcome"`
				UnmetItems  []unmetJSON `json:"unmetItems"`
			} `json:"entries"`
		}
	}
	unmetOf := func(i int) (string, []string) {
		for _, en := range published.Result.Entries {
			if en.Application == e.apps[i] {
				var ids []string
				for _, u := range en.UnmetItems {
					ids = append(ids, u.Item)
				}
				return en.Outcome, ids
			}
		}
		return "", nil
	}
	e.must(http.MethodGet, e.sel()+"/results/administrative-screening", "", nil, &published)
	for i, want := range map[int][]string{1: nil, 4: {"document:lhkpn"}, 5: {"age"}} {
		if outcome, got := unmetOf(i); !slices.Equal(got, want) || (want == nil) != (outcome == "OUTCOME_PASS") {
			t.Errorf("published entry of candidate %d: %s %v, want unmet %v", i, outcome, got, want)
		}
	}

	// --- Objections per item, with a clarifying document of the candidate's own. ---
	objectItems := func(i int, tag string, its []string, doc string) reply {
		b := map[string]any{"stage": "STAGE_ADMINISTRATIVE_SCREENING", "reason": "Persyaratan saya terpenuhi", "items": its}
		if doc != "" {
			b["document"] = doc
		}
		return e.do(http.MethodPost, "/v1/"+e.apps[i]+"/objections?requestId="+e.reqID(tag), e.cands[i], b)
	}
	if r := objectItems(4, "obj4-doc", []string{"document:lhkpn"}, "documents/doc-1"); r.code != http.StatusBadRequest {
		t.Errorf("an objection attaching a document that does not exist: %s, want 400", r)
	}
	othersDoc := e.uploadDocument(e.cands[5], e.id, "objection", 55)
	if r := objectItems(4, "obj4-others", []string{"document:lhkpn"}, othersDoc); r.code != http.StatusBadRequest {
		t.Errorf("an objection attaching another candidate's document: %s, want 400", r)
	}
	ownDoc := e.uploadDocument(e.cands[4], e.id, "objection", 44)
	if r := objectItems(4, "obj4-met", []string{"age"}, ""); r.code != http.StatusBadRequest {
		t.Errorf("an objection to a met item: %s, want 400", r)
	}
	var obj4, obj5 struct {
		Objection struct {
			Name     string   `json:"name"`
			Items    []string `json:"items"`
			Document string   `json:"document"`
		}
	}
	e.must(http.MethodPost, "/v1/"+e.apps[4]+"/objections?requestId="+e.reqID("obj4"), e.cands[4],
		map[string]any{"stage": "STAGE_ADMINISTRATIVE_SCREENING", "reason": "LHKPN 2025 sudah diunggah", "items": []string{"document:lhkpn"}, "document": ownDoc}, &obj4)
	if obj4.Objection.Document != ownDoc {
		t.Errorf("objection 4 does not carry its document %s: %+v", ownDoc, obj4.Objection)
	}
	e.must(http.MethodPost, "/v1/"+e.apps[5]+"/objections?requestId="+e.reqID("obj5"), e.cands[5],
		map[string]any{"stage": "STAGE_ADMINISTRATIVE_SCREENING", "reason": "Usia saya dihitung salah", "items": []string{"age"}}, &obj5)
	if !slices.Equal(obj4.Objection.Items, []string{"document:lhkpn"}) {
		t.Errorf("objection 4 as filed: %+v", obj4.Objection)
	}

	// --- Answered item by item: 4's item accepted (revision 2), 5's refused. ---
	var answered struct {
		Objection struct {
			State       string `json:"state"`
			ItemAnswers []struct {
				Item     string `json:"item"`
				Accepted bool   `json:"accepted"`
			} `json:"itemAnswers"`
		}
		RepublishedResult struct {
			Revision int `json:"revision"`
		} `json:"republishedResult"`
	}
	e.command("/v1/"+obj4.Objection.Name+":answer", chair, map[string]any{"requestId": e.reqID("answer4"), "accepted": true,
		"answer": "Sanggah diterima", "itemAnswers": []map[string]any{{"item": "document:lhkpn", "accepted": true, "answer": "LHKPN 2025 ada di berkas"}}}, &answered)
	if answered.Objection.State != "OBJECTION_STATE_ACCEPTED" || len(answered.Objection.ItemAnswers) != 1 || answered.RepublishedResult.Revision != 2 {
		t.Errorf("answer to objection 4: %+v", answered)
	}
	e.command("/v1/"+obj5.Objection.Name+":answer", chair, map[string]any{"requestId": e.reqID("answer5"), "accepted": false,
		"answer": "Sanggah ditolak", "itemAnswers": []map[string]any{{"item": "age", "accepted": false, "answer": "Akta kelahiran: 1960"}}}, nil)
	if it := checklist(4, e.cands[4])["document:lhkpn"]; it.Status != "REQUIREMENT_STATUS_MET" || it.Objection == "" || it.VerifiedBy != "ketua" {
		t.Errorf("candidate 4's flipped item: %+v", it)
	}
	e.candidateSees(4, "APPLICATION_STATE_IN_PROGRESS", "STAGE_ADMINISTRATIVE_SCREENING")
	e.candidateSees(5, "APPLICATION_STATE_ELIMINATED", "STAGE_ADMINISTRATIVE_SCREENING")
	published.Result.Entries = nil
	e.must(http.MethodGet, e.sel()+"/results/administrative-screening", "", nil, &published)
	if outcome, unmet := unmetOf(4); published.Result.Revision != 2 || outcome != "OUTCOME_PASS" || len(unmet) != 0 {
		t.Errorf("revision %d: candidate 4 %s %v", published.Result.Revision, outcome, unmet)
	}

	// --- The auditor: the history replays and the store agrees, checklists included. ---
	auditor := e.tok.mint(auth.RoleAuditor, "inspektorat-1")
	var rep verificationJSON
	e.must(http.MethodPost, e.sel()+":verify", auditor, map[string]any{"replay": true}, &rep)
	if !rep.Report.OK || len(rep.Report.Findings) > 0 {
		t.Errorf("verification: ok %v, %d findings", rep.Report.OK, len(rep.Report.Findings))
		for _, f := range rep.Report.Findings {
			t.Logf("  %s: %s", f.Kind, f.Message)
		}
	}
}
