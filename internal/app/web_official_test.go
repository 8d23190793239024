package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/official"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web/browsertest"
	"github.com/bkpsdm/seleksi/workflows"
)

// issueOfficial publishes a screening result of sel-open and a corrected revision of it, and
// issues the documents they call for with the API's own signer.
func issueOfficial(t *testing.T, api *realAPI) []store.OfficialDocument {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	scr := "STAGE_ADMINISTRATIVE_SCREENING"
	for rev := 1; rev <= 2; rev++ {
		at := now.Add(time.Duration(rev) * time.Minute)
		if _, err := api.store.ApplyCommand(ctx, store.Command{WorkflowID: workflows.WorkflowID(selOpen), SelectionID: selOpen,
			Key: "official-" + string(rune('0'+rev)), Seq: int64(rev), Kind: "AdvanceStage", Actor: store.Actor{Subject: "member-1", Role: "ROLE_COMMITTEE"},
			At: at, Stage: scr, Phase: "OBJECTIONS", Payload: json.RawMessage(`{}`), Message: &store.Text{Code: "AdvanceStage"},
			Result: &store.StageResult{Stage: scr, Revision: rev, PublishedAt: at, ObjectionDeadline: now.Add(72 * time.Hour),
				Entries: []store.ResultEntry{{ApplicationID: appOpen, Outcome: map[int]string{1: "OUTCOME_FAIL", 2: "OUTCOME_PASS"}[rev], Reason: "LHKPN"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	iss := official.NewIssuer(api.store, api.official, slog.New(slog.DiscardHandler), official.Options{PublicURL: api.base}, official.StandardKinds(server.ReportDefinition)...)
	for {
		r, err := iss.IssueOnce(ctx)
		if err != nil || r.Failed > 0 {
			t.Fatalf("issue: %+v, %v", r, err)
		}
		if r.Issued == 0 {
			break
		}
	}
	docs, err := api.store.ListOfficialDocuments(ctx, selOpen)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestWebOfficialVerification: the verification page of each document through the real API:
// valid, or superseded with a link to revision 2; a document whose stored file was changed is
// reported as failing its checks; an unknown number is a 404 page; the selection's page
// links its documents; the PDF and signature download from the gateway; the pages pass axe.
func TestWebOfficialVerification(t *testing.T) {
	dbPath := t.TempDir() + "/web.db"
	api := startRealAPI(t, "sqlite:"+dbPath, server.Deadlines{})
	docs := issueOfficial(t, api)
	var r1, r2, vacancy, proof store.OfficialDocument
	others := 0
	for _, d := range docs {
		if d.Kind != store.OfficialRegistrationProof {
			others++
		}
		switch {
		case d.Kind == store.OfficialRegistrationProof:
			proof = d
		case d.Kind == store.OfficialResultAnnouncement && d.Revision == 1:
			r1 = d
		case d.Kind == store.OfficialResultAnnouncement && d.Revision == 2:
			r2 = d
		case d.Kind == store.OfficialVacancyAnnouncement:
			vacancy = d
		}
	}
	if r1.ID == "" || r2.ID == "" || vacancy.ID == "" || proof.ID == "" || others != 5 {
		t.Fatalf("documents issued: %+v", docs)
	}
	c := http.DefaultClient
	secContains(t, "revision 1", webGet(t, c, api.base+"/verify/"+r1.ID), "telah diganti oleh revisi 2", `href="/verify/`+r2.ID+`"`,
		r1.Number, r1.SHA256, r1.KeyID, "Pemkab Contoh", `href="/v1/officialDocuments/`+r1.ID+`:download"`, `:signature"`, "BEGIN PUBLIC KEY")
	secContains(t, "revision 2", webGet(t, c, api.base+"/verify/"+r2.ID), "Dokumen ini sah dan berlaku.")
	if p := webGet(t, c, api.base+"/verify/seleksi-hasil-0099"); p.code != http.StatusNotFound || !strings.Contains(p.body, "Tidak ada dokumen resmi dengan nomor seleksi-hasil-0099") {
		t.Errorf("unknown document: %d\n%s", p.code, p.body)
	}
	secContains(t, "selection page", webGet(t, c, api.base+"/seleksi/"+selOpen), `href="/seleksi/sel-open/dokumen"`)
	secContains(t, "documents page", webGet(t, c, api.base+"/seleksi/"+selOpen+"/dokumen"), vacancy.Number, r2.Number, "Diganti revisi")

	resp, err := c.Get(api.base + "/v1/officialDocuments/" + vacancy.ID + ":download")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || resp.Header.Get("ETag") != `"`+vacancy.SHA256+`"` {
		t.Errorf("PDF download: %d %v", resp.StatusCode, resp.Header)
	}

	checkProofPrivate(t, api, proof)

	b := browsertest.Start(t)
	p := b.NewUser(t)
	for _, path := range []string{"/verify/" + r1.ID, "/verify/" + r2.ID, "/verify/tidak-ada", "/seleksi/" + selOpen + "/dokumen"} {
		p.Navigate(api.base + path)
		p.AssertAccessible(t, path)
	}

	// A stored file changed behind the registry's back is reported, not shown as valid.
	if err := tamperOfficial(api.store, dbPath, vacancy.ID); err != nil {
		t.Fatal(err)
	}
	secContains(t, "tampered", webGet(t, c, api.base+"/verify/"+vacancy.ID), "tidak dapat dipastikan keasliannya")
}

// tamperOfficial changes one byte of a stored PDF directly in the SQLite file, as someone
// with access to the database could.
func tamperOfficial(st *store.Store, path, id string) error {
	doc, err := st.GetOfficialDocument(context.Background(), id, true)
	if err != nil {
		return err
	}
	doc.Content[len(doc.Content)/2] ^= 1
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("UPDATE official_documents SET content = ? WHERE id = ?", doc.Content, id)
	return err
}

// checkProofPrivate: a proof of registration names its candidate, so its file reaches only
// the candidate, the selection's committee, the secretariat and auditors (never a shared
// cache), and the public list leaves it out; its verification page, which shows no name,
// stays public so that anyone can check the paper a candidate shows.
func checkProofPrivate(t *testing.T, api *realAPI, proof store.OfficialDocument) {
	t.Helper()
	other, err := api.key.Mint(auth.MintOptions{Subject: "cand-b", Role: auth.RoleCandidate, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	get := func(token, path string) (int, http.Header, string) {
		code, h, b := bearerRequest(t, http.MethodGet, api.base+path, token)
		return code, h, string(b)
	}
	download := "/v1/officialDocuments/" + proof.ID + ":download"
	for _, tc := range []struct {
		who, token string
		want       int
	}{
		{"anonymous", "", http.StatusNotFound},
		{"another candidate", other, http.StatusNotFound},
		{"the candidate", api.candidate, http.StatusOK},
		{"the committee", api.committee, http.StatusOK},
		{"the secretariat", api.admin, http.StatusOK},
		{"an auditor", api.auditor, http.StatusOK},
	} {
		code, h, body := get(tc.token, download)
		if code != tc.want {
			t.Errorf("%s downloads the proof: %d, want %d", tc.who, code, tc.want)
			continue
		}
		if code == http.StatusOK && (h.Get("Cache-Control") != "private, no-store" || !strings.HasPrefix(body, "%PDF")) {
			t.Errorf("%s: proof served with Cache-Control %q, body %.8q", tc.who, h.Get("Cache-Control"), body)
		}
	}
	for _, tc := range []struct {
		who, token string
		listed     bool
	}{{"anonymous", "", false}, {"another candidate", other, false}, {"the candidate", api.candidate, true}, {"an auditor", api.auditor, true}} {
		_, _, body := get(tc.token, "/v1/selections/"+selOpen+"/officialDocuments")
		if strings.Contains(body, proof.ID) != tc.listed {
			t.Errorf("%s lists the proof: %v, want %v", tc.who, !tc.listed, tc.listed)
		}
	}
	if code, _, body := get("", "/verify/"+proof.ID); code != http.StatusOK || !strings.Contains(body, proof.SHA256) || strings.Contains(body, "Calon A") {
		t.Errorf("the proof's public verification page: %d", code)
	}
}
