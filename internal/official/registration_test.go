package official

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
)

// TestRegistrationProof: a submission queues its proof of registration; the issuer issues it
// once, signed; its text (pdftotext) has the participant number, the name, the position, the
// submission time in the agency's zone and each document with its SHA-256; its QR code
// leads to the document's verification page.
func TestRegistrationProof(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, d.URL(t))
			now := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
			const sel = "kadis-bukti"
			if _, err := st.CreateSelection(ctx, store.NewSelection{ID: sel, RequestID: "create", WorkflowID: "selection-" + sel,
				PositionTitle: "Kepala Dinas Pendidikan", PositionUnit: "Dinas Pendidikan", Agency: "Pemerintah Kabupaten Contoh",
				TimeZone: "TIME_ZONE_WITA", Config: []byte(`{"requirements":{"requiredDocuments":[{"id":"ijazah","title":"Ijazah"}]}}`),
				Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: "selection-" + sel, SelectionID: sel, Key: "window-1",
				Window: store.Window{Opens: now, Closes: now.Add(72 * time.Hour), ClosesWall: now.Add(72 * time.Hour)}}, now); err != nil {
				t.Fatal(err)
			}
			const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
			doc, err := st.CreateDocument(ctx, store.NewDocument{SelectionID: sel, Owner: "cand-1", Kind: "ijazah", UploadID: "up-1",
				FileName: "ijazah-s2.pdf", MediaType: "application/pdf", SizeBytes: 2048, SHA256: digest, Pages: 1,
				BlobKey: "sha256/9f/" + digest, RequireOpenWindow: true, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			app, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: sel, RequestID: "submit-000001", Owner: "cand-1",
				Candidate: store.Candidate{Subject: "cand-1", FullName: "Dr. Budi Santoso, M.Si.", NIP: "197505052000031001",
					Email: "budi@example.go.id", BirthDate: "1975-05-05"},
				Documents: []store.DocumentRef{{Kind: "ijazah", DocumentID: doc.ID}}, Now: now.Add(90 * time.Minute),
				ParticipantNumber: func(string, int) (string, error) { return "2026-KADIS-0001", nil }})
			if err != nil {
				t.Fatal(err)
			}

			iss := NewIssuer(st, testSigner(t), slog.New(slog.NewTextHandler(io.Discard, nil)),
				Options{PublicURL: "https://seleksi.example.go.id", NumberPrefix: "PKC", Now: func() time.Time { return now.Add(2 * time.Hour) }},
				RegistrationProof())
			for range 2 {
				if _, err := iss.IssueOnce(ctx); err != nil {
					t.Fatal(err)
				}
			}
			docs, err := st.ListOfficialDocuments(ctx, sel)
			if err != nil {
				t.Fatal(err)
			}
			var proofs []store.OfficialDocument
			for _, d := range docs {
				if d.Kind == store.OfficialRegistrationProof {
					proofs = append(proofs, d)
				}
			}
			if len(proofs) != 1 || proofs[0].Subject != app.ID {
				t.Fatalf("proofs %+v, want one for application %s", proofs, app.ID)
			}
			full, err := st.GetOfficialDocument(ctx, proofs[0].ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := iss.Verify(ctx, full); err != nil || !c.Valid() {
				t.Fatalf("verify: %+v, %v", c, err)
			}
			text := pdfText(t, full.Content)
			for _, want := range []string{"Bukti Pendaftaran", "Proof of Registration", "2026-KADIS-0001", "Dr. Budi Santoso, M.Si.",
				"Kepala Dinas Pendidikan", "Pemerintah Kabupaten Contoh", app.ID, "2026-12-01 10:30:00 WITA", "ijazah-s2.pdf"} {
				if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
					t.Errorf("proof text lacks %q:\n%s", want, text)
				}
			}
			// The digest column wraps a 64-digit digest over two lines.
			if !strings.Contains(strings.Join(strings.Fields(text), ""), digest) {
				t.Errorf("proof text lacks the document's digest:\n%s", text)
			}
			if regexp.MustCompile(`(?i)NIP|197505052000031001|budi@example`).MatchString(text) {
				t.Errorf("the proof shows personal data it does not need:\n%s", text)
			}
			pages := pdfPages(t, full.Content, "registration-proof", false)
			if got, want := decodeQR(t, pages[0]), iss.VerifyURL(full.ID); got != want {
				t.Errorf("QR code %q, want %q", got, want)
			}
		})
	}
}
