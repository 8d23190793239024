package cli

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
)

// auditTestKey is the key internal/audit's tests sign the golden bundles with (testKey in
// internal/audit/helpers_test.go): derived from a fixed seed, it protects nothing.
func auditTestKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("seleksi audit test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// writeKeyPEM saves key's public half as `seleksictl audit key` prints it, table header
// included, so the test also covers saving that command's whole output as the key file.
func writeKeyPEM(t *testing.T, key ed25519.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("Key ID     %s\nAlgorithm  EdDSA\n\n%s", audit.KeyFingerprint(key.Public().(ed25519.PublicKey)),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	f := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func goldenBundle(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "audit", "testdata", name+".bundle.zip"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func recordedHistory(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "workflows", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rezip copies a zip archive, entry by entry in the same order, through edit.
func rezip(t *testing.T, data []byte, edit func(name string, b []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(edit(f.Name, b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// historyPartName is the name of the bundle's first history part.
func historyPartName(t *testing.T, data []byte) string {
	t.Helper()
	b, err := audit.ReadBundle(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range b.Manifest.Parts {
		if p.MediaType == audit.MediaTypeHistory {
			return p.Name
		}
	}
	t.Fatal("the bundle lists no history")
	return ""
}

// scheduledEventID is the ID of the first ActivityTaskScheduled event of activity type name.
func scheduledEventID(t *testing.T, history []byte, name string) int64 {
	t.Helper()
	h, err := audit.ParseHistory(history)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.GetEvents() {
		if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == name {
			return e.GetEventId()
		}
	}
	t.Fatalf("no activity %s scheduled", name)
	return 0
}

func TestAuditReplay(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	key := writeKeyPEM(t, auditTestKey("server"))
	impostor := writeKeyPEM(t, auditTestKey("impostor"))

	happy := goldenBundle(t, "happy-path")
	histPart := historyPartName(t, happy)
	// One byte of the history changed: a space of its indentation becomes a tab, which
	// keeps the JSON valid (and the replay possible) but not its digest.
	tampered := rezip(t, happy, func(name string, b []byte) []byte {
		if name != histPart {
			return b
		}
		i := bytes.IndexByte(b, ' ')
		out := bytes.Clone(b)
		out[i] = '\t'
		return out
	})
	history := recordedHistory(t, "happy-path")
	// The recorded history names an activity type the current code does not schedule,
	// exactly what a renamed activity without a workflow.GetVersion guard looks like.
	nondet := bytes.Replace(history, []byte(`"name": "ApplyCommand"`), []byte(`"name": "ApplyCommandRenamed"`), 1)
	if bytes.Equal(nondet, history) {
		t.Fatal("the recorded history schedules no ApplyCommand activity")
	}
	nondetEvent := scheduledEventID(t, nondet, "ApplyCommandRenamed")

	// The happy path's bundle again, now with the store's projection: once as the history
	// determines it, once with a published component score changed in the store.
	withProjection := func(edit func([]audit.ProjectionRow)) []byte {
		b, err := audit.ReadBundle(bytes.NewReader(happy), int64(len(happy)))
		if err != nil {
			t.Fatal(err)
		}
		hs := make([]*historypb.History, len(b.Histories))
		for i, h := range b.Histories {
			if hs[i], err = audit.ParseHistory(h.JSON); err != nil {
				t.Fatal(err)
			}
		}
		facts, _ := audit.ExtractFacts(hs)
		rows := audit.ExpectedProjection(facts)
		edit(rows)
		var buf bytes.Buffer
		err = audit.WriteBundle(&buf, audit.Bundle{SelectionID: b.SelectionID, WorkflowID: b.WorkflowID, CreatedAt: b.CreatedAt,
			Histories: b.Histories, Events: b.Events, Snapshots: b.Snapshots, Projection: rows}, auditTestKey("server"))
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	scoreRow := ""
	changedScore := withProjection(func(rows []audit.ProjectionRow) {
		for i, r := range rows {
			if r.Table == "application_results" && strings.Contains(r.Columns["scores"], `"score":`) {
				cols := map[string]string{}
				for k, v := range r.Columns {
					cols[k] = v
				}
				cols["scores"] = strings.Replace(cols["scores"], `"score":`, `"score":1`, 1)
				rows[i].Columns, scoreRow = cols, r.Key
				return
			}
		}
		t.Fatal("no published component score in the happy path")
	})

	files := map[string]string{
		"projection": write("projection.bundle.zip", withProjection(func([]audit.ProjectionRow) {})),
		"score":      write("score.bundle.zip", changedScore),
		"happy":      write("happy-path.bundle.zip", happy),
		"cancelled":  write("cancelled.bundle.zip", goldenBundle(t, "cancelled-at-competency")),
		"tampered":   write("tampered.bundle.zip", tampered),
		"history":    write("happy-path.json", history),
		"nondet":     write("nondet.json", nondet),
		"garbage":    write("garbage.txt", []byte("not a bundle\n")),
		"truncated":  write("truncated.zip", happy[:len(happy)/2]),
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		absent   []string
	}{
		{"good bundle with the key", []string{files["happy"], "--key", key}, ExitOK,
			[]string{"Result        ok", "verified with --key", "Rebuilt stage", "STAGE_CLOSED", "APPLICATION_STATE_APPOINTED", "82.00"}, []string{"NOT OK", "NOT verified"}},
		{"good bundle without a key is not verified", []string{files["happy"]}, ExitVerification,
			[]string{"NOT verified: no --key", audit.KeyFingerprint(auditTestKey("server").Public().(ed25519.PublicKey)), "STAGE_CLOSED",
				"NOT OK: the signature was not checked (no --key), nothing else was found", "seleksictl audit key > key.pem", "--key key.pem"},
			[]string{"0 finding(s)"}},
		{"cancelled selection", []string{files["cancelled"], "--key", key}, ExitOK, []string{"STAGE_CANCELLED"}, nil},
		{"bundle with the published results", []string{files["projection"], "--key", key}, ExitOK, []string{"Result        ok"}, []string{"NOT OK"}},
		{"a published score changed in the store", []string{files["score"], "--key", key}, ExitVerification,
			[]string{audit.KindProjectionMismatch, "application_results " + scoreRow + " column scores: the history and the store differ: SCORE_COMPONENT_", "history 8000, store 18000"}, nil},
		{"signed with another key", []string{files["happy"], "--key", impostor}, ExitVerification,
			[]string{"does NOT verify", audit.KindSignatureInvalid, "manifest.sig"}, nil},
		{"one byte of a history changed", []string{files["tampered"], "--key", key}, ExitVerification,
			[]string{audit.KindPartDigestMismatch, histPart, "1 problem(s)"}, nil},
		{"one byte changed, without a key", []string{files["tampered"]}, ExitVerification,
			[]string{audit.KindPartDigestMismatch, histPart, "the signature was not checked (no --key)"}, nil},
		{"plain history", []string{files["history"]}, ExitOK,
			[]string{"(history)", "Rebuilt stage  STAGE_CLOSED", "app-0005"}, []string{"Signature"}},
		{"non-deterministic history", []string{files["nondet"]}, ExitVerification,
			[]string{audit.KindNondeterminism, fmt.Sprintf("nondeterminism at event %d", nondetEvent), "ApplyCommandRenamed",
				fmt.Sprintf("nondeterminism  %-4s  1    %d", "", nondetEvent)}, nil},
		{"neither bundle nor history", []string{files["garbage"]}, ExitUsage, nil, nil},
		{"truncated bundle", []string{files["truncated"]}, ExitUsage, nil, nil},
		{"missing file", []string{filepath.Join(dir, "nope.zip")}, ExitUsage, nil, nil},
		{"key for a history", []string{files["history"], "--key", key}, ExitUsage, nil, nil},
		{"unreadable key", []string{files["happy"], "--key", files["garbage"]}, ExitUsage, nil, nil},
		{"bad output", []string{files["happy"], "-o", "yaml"}, ExitUsage, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// No server address: replay must not need one.
			res := runCLI(t, "", nil, append([]string{"audit", "replay"}, tc.args...)...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tc.code, res.stdout, res.stderr)
			}
			for _, s := range tc.contains {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(res.stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, res.stdout)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			file string
			code int
			ok   bool
		}{{files["happy"], ExitOK, true}, {files["tampered"], ExitVerification, false}, {files["nondet"], ExitVerification, false}} {
			res := runCLI(t, "", nil, "-o", "json", "audit", "replay", tc.file, "--key", key)
			if strings.HasSuffix(tc.file, ".json") {
				res = runCLI(t, "", nil, "audit", "replay", tc.file, "-o", "json")
			}
			if res.code != tc.code {
				t.Fatalf("%s: exit %d: %s", tc.file, res.code, res.stderr)
			}
			var out struct {
				OK        bool `json:"ok"`
				Signature *struct {
					Verified bool `json:"verified"`
				} `json:"signature"`
				Runs []struct {
					Index   int   `json:"index"`
					EventID int64 `json:"eventId"`
				} `json:"runs"`
				State *struct {
					Stage string `json:"stage"`
				} `json:"state"`
				Findings []audit.Finding `json:"findings"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
				t.Fatalf("%s: %v\n%s", tc.file, err, res.stdout)
			}
			if out.OK != tc.ok || (tc.ok && len(out.Findings) != 0) || (!tc.ok && len(out.Findings) == 0) {
				t.Errorf("%s: ok %v with findings %v", tc.file, out.OK, out.Findings)
			}
			switch tc.file {
			case files["happy"]:
				if out.State == nil || out.State.Stage != "STAGE_CLOSED" || out.Signature == nil || !out.Signature.Verified {
					t.Errorf("happy: %s", res.stdout)
				}
			case files["nondet"]:
				if len(out.Runs) != 1 || out.Runs[0].EventID != nondetEvent || out.Findings[0].Run != 1 ||
					len(out.Findings[0].EventIDs) != 1 || out.Findings[0].EventIDs[0] != nondetEvent {
					t.Errorf("nondet: runs %v findings %v", out.Runs, out.Findings)
				}
			}
		}
	})
}

func TestAuditTimeline(t *testing.T) {
	key := writeKeyPEM(t, auditTestKey("server"))
	dir := t.TempDir()
	// Each parallel subtest writes its own copy: two subtests of one bundle writing the same
	// file let one read it while the other truncated it.
	bundleFile := func(name string) string {
		f, err := os.CreateTemp(dir, name+"-*.bundle.zip")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(goldenBundle(t, name)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return f.Name()
	}
	golden := func(name, lang string) string {
		b, err := os.ReadFile(filepath.Join("..", "audit", "testdata", name+".timeline."+lang+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		bundle, lang string
		phrases      []string
	}{
		{"happy-path", "id", []string{"== Pengumuman ==", "Alasan:", "WIB"}},
		{"happy-path", "en", []string{"== The announcement ==", "Submitted application app-0001", "WIB"}},
		{"objections-recusal-withdrawal", "id", []string{"sanggah", "konflik kepentingan", "Menarik lamaran"}},
		{"objections-recusal-withdrawal", "en", []string{"objection", "conflict of interest", "Withdrew application"}},
		{"cancelled-at-competency", "en", nil},
	}
	for _, tc := range tests {
		t.Run(tc.bundle+"/"+tc.lang, func(t *testing.T) {
			t.Parallel()
			res := runCLI(t, "", nil, "audit", "timeline", "--bundle", bundleFile(tc.bundle), "--lang", tc.lang, "--key", key)
			if res.code != ExitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			// The CLI renders exactly what internal/audit's golden timelines hold.
			if want := golden(tc.bundle, tc.lang); res.stdout != want {
				t.Errorf("timeline differs from the golden one:\n%s", res.stdout)
			}
			for _, p := range tc.phrases {
				if !strings.Contains(res.stdout, p) {
					t.Errorf("lacks %q", p)
				}
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		res := runCLI(t, "", nil, "audit", "timeline", "--bundle", bundleFile("happy-path"), "--lang", "en", "-o", "json")
		if res.code != ExitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		var out struct {
			Lang    string                `json:"lang"`
			Entries []audit.TimelineEntry `json:"entries"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatal(err)
		}
		if out.Lang != "en" || len(out.Entries) == 0 || out.Entries[0].StageName == "" || out.Entries[0].Summary == "" {
			t.Errorf("%+v", out)
		}
	})
	t.Run("tampered bundle exits 3 after the timeline", func(t *testing.T) {
		t.Parallel()
		data := goldenBundle(t, "happy-path")
		part := historyPartName(t, data)
		f := filepath.Join(t.TempDir(), "t.zip")
		tampered := rezip(t, data, func(name string, b []byte) []byte {
			if name == part {
				b = bytes.Replace(b, []byte("  "), []byte(" \t"), 1)
			}
			return b
		})
		if err := os.WriteFile(f, tampered, 0o644); err != nil {
			t.Fatal(err)
		}
		res := runCLI(t, "", nil, "audit", "timeline", "--bundle", f)
		if res.code != ExitVerification || !strings.Contains(res.stderr, part) || res.stdout == "" {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("from the server", func(t *testing.T) {
		t.Parallel()
		rec, addr := fakeServer(t)
		res := runCLI(t, addr, nil, "audit", "timeline", "s-one", "--lang", "en", "--key", key)
		if res.code != ExitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if !strings.Contains(res.stdout, "== The announcement ==") {
			t.Errorf("timeline:\n%s", res.stdout)
		}
		if calls := rec.Calls(); len(calls) != 1 || calls[0].req.(*seleksiv1.ExportHistoryRequest).GetName() != "selections/s-one" {
			t.Errorf("calls %v", calls)
		}
	})
	for _, args := range [][]string{{}, {"s-one", "--bundle", "x.zip"}, {"a", "b"}} {
		res := runCLI(t, "", nil, append([]string{"audit", "timeline"}, args...)...)
		if res.code != ExitUsage {
			t.Errorf("audit timeline %v: exit %d, want %d", args, res.code, ExitUsage)
		}
	}
}

// signedBundle builds the archive the server builds for a recorded history: its histories,
// no audit events, signed with the golden bundles' key.
func signedBundle(t *testing.T, scenario string) []byte {
	t.Helper()
	var buf bytes.Buffer
	b := audit.Bundle{
		SelectionID: "rec-" + scenario, WorkflowID: "wf-" + scenario,
		CreatedAt: time.Date(2026, 11, 23, 22, 0, 0, 123456789, time.UTC),
		Histories: []audit.RunHistory{{JSON: recordedHistory(t, scenario)}},
	}
	if err := audit.WriteBundle(&buf, b, auditTestKey("server")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAuditExportIsABundle checks that `audit export` writes the server's archive byte for
// byte, that internal/audit reads and verifies it, and that it replays offline.
func TestAuditExportIsABundle(t *testing.T) {
	_, addr := fakeServer(t)
	out := filepath.Join(t.TempDir(), "bundle.zip")
	res := runCLI(t, addr, nil, "audit", "export", "s-one", "-O", out)
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, signedBundle(t, "happy-path")) {
		t.Error("the exported file differs from the archive audit.WriteBundle writes")
	}
	b, err := audit.ReadBundle(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.VerifySignature(auditTestKey("server").Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("signature: %v", err)
	}
	if fs := b.CheckParts(); len(fs) != 0 {
		t.Errorf("parts: %v", fs)
	}
	if len(b.Histories) != 1 || b.SelectionID != "rec-happy-path" {
		t.Errorf("read back %d histories of %q", len(b.Histories), b.SelectionID)
	}
	// The bundle has no audit events, so the cross-check finds every record unaudited; the
	// replay itself must hold.
	res = runCLI(t, "", nil, "audit", "replay", out, "--key", writeKeyPEM(t, auditTestKey("server")))
	if !strings.Contains(res.stdout, "STAGE_CLOSED") || strings.Contains(res.stdout, audit.KindNondeterminism) ||
		strings.Contains(res.stdout, audit.KindSignatureInvalid) || strings.Contains(res.stdout, audit.KindPartDigestMismatch) {
		t.Errorf("replay of the export, exit %d:\n%s", res.code, res.stdout)
	}
}

// TestSeleksictlDoesNotLinkTheTemporalServer keeps offline replay from pulling the Temporal
// server (and its dependencies) into the client binary: replay needs the SDK only.
func TestSeleksictlDoesNotLinkTheTemporalServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/bkpsdm/seleksi/cmd/seleksictl").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "go.temporal.io/server") {
			t.Errorf("seleksictl links %s", line)
		}
	}
}
