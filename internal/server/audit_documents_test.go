package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/cli"
	"github.com/bkpsdm/seleksi/internal/store"
)

// recordedSnapshots stands in for the store's snapshot check of the recorded selection:
// the recorder's activities wrote stand-in digests that a real store does not reproduce
// (see verifyRealStore), and this test is about documents, so it answers the digests the
// history recorded. Everything else is the real store.
type recordedSnapshots struct {
	*store.Store
	digests map[string]string
}

func (r recordedSnapshots) VerifySnapshot(ctx context.Context, selectionID, key string) (store.SnapshotCheck, error) {
	d := r.digests[key]
	return store.SnapshotCheck{Key: key, Recorded: d, Recomputed: d, OK: true}, nil
}

// TestExportedDocumentsVerifyOffline: a bundle exported from a selection with uploaded
// documents describes each one with its digest (never its content), and `seleksictl audit
// verify-document` finds the original file in it offline while a one-byte change matches
// nothing (exit 3). A digest altered in the store after the upload is a finding.
func TestExportedDocumentsVerifyOffline(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			st, raw, _ := openRealStore(t, db)
			rec := loadRecorded(t)
			applyHistory(t, st, rec.facts)
			selID := rec.facts.SelectionID
			dir := t.TempDir()

			files := map[string][]byte{
				"ijazah": []byte("%PDF-1.7\n% ijazah S2 Administrasi Publik\n%%EOF\n"),
				"lhkpn":  []byte("%PDF-1.7\n% tanda terima LHKPN 2025\n%%EOF\n"),
			}
			docs := map[string]store.StoredDocument{}
			for kind, content := range files {
				sum := sha256Hex(content)
				d, err := st.CreateDocument(ctx, store.NewDocument{SelectionID: selID, Owner: "act-cand", Kind: kind, UploadID: "up-" + kind,
					FileName: kind + ".pdf", MediaType: "application/pdf", SizeBytes: int64(len(content)), SHA256: sum,
					Pages: 1, BlobKey: "sha256/" + sum, Now: time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)})
				if err != nil {
					t.Fatal(err)
				}
				docs[kind] = d
				if err := os.WriteFile(filepath.Join(dir, kind+".pdf"), content, 0o600); err != nil {
					t.Fatal(err)
				}
			}

			digests := map[string]string{}
			for _, s := range rec.facts.Snapshots {
				digests[s.Request.Key] = s.Digest
			}
			key := testAuditKey()
			s, err := NewAuditServer(recordedSnapshots{st, digests}, rec.history, key, key.Public().(ed25519.PublicKey), slog.New(slog.DiscardHandler),
				func() time.Time { return time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC) })
			if err != nil {
				t.Fatal(err)
			}
			exp, err := export(t, s, "selections/"+selID)
			if err != nil {
				t.Fatal(err)
			}
			if len(exp.bundle.Documents) != 2 {
				t.Fatalf("the bundle describes %d documents, want 2: %+v", len(exp.bundle.Documents), exp.bundle.Documents)
			}
			for _, d := range exp.bundle.Documents {
				want := docs[d.Kind]
				if d.DocumentID != want.ID || d.SHA256 != want.SHA256 || d.SizeBytes != want.SizeBytes || d.MediaType != "application/pdf" || d.State != store.DocumentStateUploaded {
					t.Errorf("bundle document %+v, stored %+v", d, want)
				}
			}
			for _, p := range exp.bundle.Parts {
				for _, content := range files {
					if bytes.Contains(p.Data, content) {
						t.Errorf("part %s carries a document's content", p.Name)
					}
				}
			}
			bundleFile := filepath.Join(dir, "bundle.zip")
			if err := os.WriteFile(bundleFile, exp.zip, 0o600); err != nil {
				t.Fatal(err)
			}
			keyFile := writePublicKey(t, dir, key)

			// The original file matches; a one-byte change does not.
			res := runCtl(t, "-o", "json", "audit", "verify-document", bundleFile, filepath.Join(dir, "lhkpn.pdf"), "--key", keyFile)
			if res.code != cli.ExitOK {
				t.Fatalf("the original file: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			var out struct {
				Matches  []audit.DocumentDigest `json:"matches"`
				BundleOK bool                   `json:"bundleOk"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Matches) != 1 || out.Matches[0].DocumentID != docs["lhkpn"].ID || out.Matches[0].Kind != "lhkpn" || !out.BundleOK {
				t.Fatalf("the original file: %s", res.stdout)
			}
			changed := bytes.Clone(files["lhkpn"])
			changed[len(changed)/2] ^= 1
			changedFile := filepath.Join(dir, "lhkpn-changed.pdf")
			if err := os.WriteFile(changedFile, changed, 0o600); err != nil {
				t.Fatal(err)
			}
			res = runCtl(t, "audit", "verify-document", bundleFile, changedFile, "--key", keyFile)
			if res.code != cli.ExitVerification || !strings.Contains(res.stdout, "matches no document") {
				t.Fatalf("a one-byte change: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			// Without the key, a match is reported but the signature is not vouched for.
			res = runCtl(t, "audit", "verify-document", bundleFile, filepath.Join(dir, "ijazah.pdf"))
			if res.code != cli.ExitVerification || !strings.Contains(res.stdout, "matches document "+docs["ijazah"].ID) {
				t.Fatalf("no key: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}

			// A digest altered in the store after the upload no longer agrees with the
			// upload's audit event.
			alter := "UPDATE documents SET sha256 = ? WHERE id = ?"
			if db == "postgres" {
				alter = "UPDATE documents SET sha256 = $1 WHERE id = $2"
			}
			if _, err := raw.ExecContext(ctx, alter, sha256Hex([]byte("forged")), docs["lhkpn"].ID); err != nil {
				t.Fatal(err)
			}
			exp, err = export(t, s, "selections/"+selID)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := audit.VerifyBundle(ctx, exp.bundle, key.Public().(ed25519.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			if !audit.HasKind(rep.Findings, audit.KindDocumentMismatch) {
				t.Fatalf("an altered document digest: findings %v", rep.Findings)
			}
		})
	}
}

type ctlResult struct {
	code           int
	stdout, stderr string
}

// runCtl runs seleksictl's offline commands in-process.
func runCtl(t *testing.T, args ...string) ctlResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &cli.App{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := app.Run(context.Background(), args)
	return ctlResult{code, stdout.String(), stderr.String()}
}

func writePublicKey(t *testing.T, dir string, key ed25519.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
