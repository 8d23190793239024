package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/bkpsdm/seleksi/internal/app"
)

type officialDocJSON struct {
	Name         string `json:"name"`
	Number       string `json:"number"`
	Kind         string `json:"kind"`
	Stage        string `json:"stage"`
	Revision     int    `json:"revision"`
	Status       string `json:"status"`
	SupersededBy string `json:"supersededBy"`
	Sha256       string `json:"sha256"`
	KeyID        string `json:"keyId"`
	DownloadURI  string `json:"downloadUri"`
	SignatureURI string `json:"signatureUri"`
	VerifyURI    string `json:"verifyUri"`
}

// checkOfficialDocuments: after the whole selection, the worker has issued its official
// documents (run once more here so that the check does not wait for the loop): the vacancy
// announcement, each stage's result announcement and minutes (the screening's revision 2
// after the accepted objection superseding revision 1), the recommendation and the
// appointment record. Each PDF downloads from the gateway, matches its digest, verifies
// against the published key, and changing one byte breaks the signature; the QR code opens
// its verification page, which says the screening's first revision is superseded by
// revision 2; an unknown number is a 404 page.
func checkOfficialDocuments(t *testing.T, a *app.App, e *e2e) {
	t.Helper()
	// The worker's own loop may hold a job while this runs: wait, boundedly, until no job is
	// left, issuing what is due meanwhile.
	admin := e.tok.mint("admin", "admin-official")
	for attempt := 0; ; attempt++ {
		r, err := a.IssueOfficialNow(context.Background())
		if err != nil {
			t.Fatalf("issue official documents: %v", err)
		}
		var jobs struct {
			Jobs []map[string]any `json:"jobs"`
		}
		e.must(http.MethodGet, "/v1/officialDocumentJobs?selection=selections/"+e.id, admin, nil, &jobs)
		if len(jobs.Jobs) == 0 {
			break
		}
		if r.Failed > 0 || attempt == 300 {
			t.Fatalf("official documents not issued: %+v", jobs.Jobs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var list struct {
		Docs []officialDocJSON `json:"officialDocuments"`
	}
	e.must(http.MethodGet, e.sel()+"/officialDocuments", "", nil, &list)
	type key struct {
		kind, stage string
		revision    int
	}
	byKey := map[key]officialDocJSON{}
	for _, d := range list.Docs {
		byKey[key{d.Kind, d.Stage, d.Revision}] = d
	}
	const k = "OFFICIAL_DOCUMENT_KIND_"
	scr := key{k + "RESULT_ANNOUNCEMENT", "STAGE_ADMINISTRATIVE_SCREENING", 1}
	scr2 := key{k + "RESULT_ANNOUNCEMENT", "STAGE_ADMINISTRATIVE_SCREENING", 2}
	for _, want := range []key{
		{k + "VACANCY_ANNOUNCEMENT", "", 1}, scr, scr2, {k + "MINUTES", "STAGE_ADMINISTRATIVE_SCREENING", 1},
		{k + "RESULT_ANNOUNCEMENT", "STAGE_COMPETENCY_TEST", 1}, {k + "RESULT_ANNOUNCEMENT", "STAGE_INTERVIEW", 1},
		{k + "RESULT_ANNOUNCEMENT", "STAGE_COMMITTEE_DECISION", 1}, {k + "MINUTES", "STAGE_COMMITTEE_DECISION", 1},
		{k + "RECOMMENDATION", "STAGE_COMMITTEE_DECISION", 1}, {k + "APPOINTMENT_RECORD", "STAGE_COMMITTEE_DECISION", 1},
	} {
		if _, ok := byKey[want]; !ok {
			t.Errorf("no official document %+v among %d", want, len(list.Docs))
		}
	}
	if t.Failed() {
		for _, d := range list.Docs {
			t.Logf("%s %s %s r%d", d.Number, d.Kind, d.Stage, d.Revision)
		}
		t.FailNow()
	}
	if byKey[scr].SupersededBy != byKey[scr2].Name || byKey[scr].Status != "OFFICIAL_DOCUMENT_STATUS_SUPERSEDED" {
		t.Errorf("screening revision 1: %+v, want superseded by %s", byKey[scr], byKey[scr2].Name)
	}

	var keys struct {
		Keys []struct {
			KeyID     string `json:"keyId"`
			PublicKey []byte `json:"publicKey"`
		} `json:"keys"`
	}
	e.must(http.MethodGet, "/v1/officialDocumentKeys", "", nil, &keys)
	pub := map[string]ed25519.PublicKey{}
	for _, k := range keys.Keys {
		pub[k.KeyID] = k.PublicKey
	}
	for _, d := range list.Docs {
		pdf := e.must(http.MethodGet, d.DownloadURI, "", nil, nil).body
		sig := e.must(http.MethodGet, d.SignatureURI, "", nil, nil).body
		sum := sha256.Sum256(pdf)
		if hex.EncodeToString(sum[:]) != d.Sha256 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("%s: the download is not the registered PDF", d.Number)
			continue
		}
		if !ed25519.Verify(pub[d.KeyID], sum[:], sig) {
			t.Errorf("%s: the signature does not verify with the published key %s", d.Number, d.KeyID)
		}
		pdf[len(pdf)/2] ^= 1
		changed := sha256.Sum256(pdf)
		if ed25519.Verify(pub[d.KeyID], changed[:], sig) {
			t.Errorf("%s: a changed byte went undetected", d.Number)
		}
	}

	// The first screening announcement's QR code leads to its page, which names revision 2.
	pdf := e.must(http.MethodGet, byKey[scr].DownloadURI, "", nil, nil).body
	url := decodeFirstPageQR(t, pdf)
	if !strings.HasSuffix(url, byKey[scr].VerifyURI) {
		t.Fatalf("QR code reads %q, want the page %s", url, byKey[scr].VerifyURI)
	}
	page := e.do(http.MethodGet, byKey[scr].VerifyURI, "", nil)
	if page.code != http.StatusOK || !strings.Contains(string(page.body), "telah diganti oleh revisi 2") ||
		!strings.Contains(string(page.body), byKey[scr2].VerifyURI) || !strings.Contains(string(page.body), byKey[scr].Sha256) {
		t.Errorf("verification page of a superseded revision: %d\n%s", page.code, page.body)
	}
	page = e.do(http.MethodGet, byKey[scr2].VerifyURI, "", nil)
	if page.code != http.StatusOK || !strings.Contains(string(page.body), "Dokumen ini sah dan berlaku.") {
		t.Errorf("verification page of the revision in force: %d\n%s", page.code, page.body)
	}
	page = e.do(http.MethodGet, "/verify/tidak-ada-0001", "", nil)
	if page.code != http.StatusNotFound || !strings.Contains(string(page.body), "Dokumen tidak ditemukan") {
		t.Errorf("verification page of an unknown number: %d\n%s", page.code, page.body)
	}
	// The selection's public page links its documents, which list every one.
	if p := e.do(http.MethodGet, "/seleksi/"+e.id, "", nil); !strings.Contains(string(p.body), "/seleksi/"+e.id+"/dokumen") {
		t.Errorf("the selection's page does not link its official documents")
	}
	if p := e.do(http.MethodGet, "/seleksi/"+e.id+"/dokumen", "", nil); p.code != http.StatusOK || !strings.Contains(string(p.body), byKey[scr2].Number) {
		t.Errorf("the documents page: %d\n%s", p.code, p.body)
	}
}

// decodeFirstPageQR renders a PDF's first page with pdftoppm and decodes its QR code.
func decodeFirstPageQR(t *testing.T, pdf []byte) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code on the first page: %v", err)
	}
	return res.GetText()
}
