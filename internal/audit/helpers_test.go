package audit

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// update rewrites the golden files under testdata/:
//
//	go test ./internal/audit -run 'TestGolden' -args -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testKey is a fixed Ed25519 key for tests only: the golden bundles are signed with it, so
// it must be the same on every run. It protects nothing.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("seleksi audit test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// recorded lists the histories the workflows package recorded, by scenario name.
func recorded(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "workflows", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no recorded histories in workflows/testdata")
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return out
}

// eventsFromFacts builds the audit chain the store would have written for facts: one event
// per applied record, in command order, plus (when submissions is set) the store's own
// events: the selection's creation first, and one per application of the first snapshot
// after the announcement opened. It is how the
// store is expected to convert its records (see AuditEvent).
func eventsFromFacts(t *testing.T, facts HistoryFacts, submissions bool) []AuditEvent {
	t.Helper()
	var events []AuditEvent
	add := func(e AuditEvent) {
		e.SelectionID = facts.SelectionID
		e.Seq = int64(len(events) + 1)
		e.WorkflowTime = e.WorkflowTime.UTC().Truncate(time.Microsecond)
		var prev *AuditEvent
		if len(events) > 0 {
			prev = &events[len(events)-1]
		}
		events = append(events, Link(prev, e))
	}
	if submissions && len(facts.Runs) > 0 {
		// The API creates the selection's row, with this event, before it starts the workflow.
		payload := []byte(`{"selectionId":"` + facts.SelectionID + `"}`)
		digest, _ := PayloadDigest(payload)
		add(AuditEvent{WorkflowID: facts.WorkflowID, UpdateID: "req-create", ActorSubject: "admin-1", Role: "ROLE_ADMIN",
			Action: "CreateSelection", Target: "selections/" + facts.SelectionID, WorkflowTime: facts.Runs[0].StartedAt.Add(-time.Second),
			Payload: payload, PayloadSHA256: digest})
	}
	for i, r := range facts.Records {
		if !r.Applied() {
			continue
		}
		payload, err := CanonicalJSON(r.Args)
		if err != nil {
			t.Fatal(err)
		}
		digest, err := PayloadDigest(payload)
		if err != nil {
			t.Fatal(err)
		}
		rec := r.Record
		add(AuditEvent{WorkflowID: rec.WorkflowID, UpdateID: rec.Key, CommandSeq: rec.Seq,
			ActorSubject: rec.Actor.Subject, Role: string(rec.Actor.Role), Action: rec.Kind,
			Target: "selections/" + rec.SelectionID, Reason: rec.Reason, WorkflowTime: rec.At,
			Payload: payload, PayloadSHA256: digest})
		if i == 0 && submissions && len(facts.Snapshots) > 0 {
			for j, id := range facts.Snapshots[0].ApplicationIDs {
				payload := []byte(fmt.Sprintf(`{"applicationId":%q}`, id))
				digest, _ := PayloadDigest(payload)
				add(AuditEvent{UpdateID: "req-submit-" + id, ActorSubject: "cand-" + strings.TrimPrefix(id, "app-"), Role: "ROLE_CANDIDATE",
					Action: "SubmitApplication", Target: "selections/" + facts.SelectionID + "/applications/" + id,
					WorkflowTime: rec.At.Add(time.Duration(j+1) * time.Minute), Payload: payload, PayloadSHA256: digest})
			}
		}
	}
	return events
}

// digestsFromFacts are the snapshot digests a store with untouched rows would compute.
func digestsFromFacts(facts HistoryFacts) []SnapshotDigest {
	var ds []SnapshotDigest
	for _, s := range facts.Snapshots {
		ds = append(ds, SnapshotDigest{Key: s.Request.Key, Digest: s.Digest, Applications: len(s.ApplicationIDs)})
	}
	return ds
}

// rewriteZip copies a bundle archive, passing every file through edit (which may change
// its bytes or drop it by returning nil) and appending extra files.
func rewriteZip(t *testing.T, data []byte, edit func(name string, b []byte) []byte, extra ...Part) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	write := func(name string, b []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
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
		if edit != nil {
			b = edit(f.Name, b)
		}
		if b != nil {
			write(f.Name, b)
		}
	}
	for _, p := range extra {
		write(p.Name, p.Data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func readBundle(t *testing.T, data []byte) *Bundle {
	t.Helper()
	b, err := ReadBundle(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ReadBundle: %v", err)
	}
	return b
}

func kinds(fs []Finding) []string {
	var ks []string
	for _, f := range fs {
		ks = append(ks, f.Kind)
	}
	return ks
}

// testCatalog is the catalog Seleksi ships.
func testCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
