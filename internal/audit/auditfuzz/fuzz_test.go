package auditfuzz

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// testKey is the fixed Ed25519 key internal/audit's tests sign their bundles with (the
// seeds here are such bundles). It protects nothing.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("seleksi audit test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// fuzzLimits are the read limits of the fuzz targets: small enough that an input can reach
// them within a fuzzing run (the real ones are hundreds of MiB), the same code otherwise.
var fuzzLimits = audit.ReadLimits{Part: 1 << 20, Total: 4 << 20}

// FuzzReadBundle feeds arbitrary archives to the bundle reader behind `seleksictl audit
// replay` and `audit timeline`, which read bundles an auditor received from anyone. It must
// never panic and never hold more than its limits, whatever the archive declares (zip
// bombs, huge or lying sizes, duplicate and traversal names); what it reads goes through
// every check that needs no replay. A bundle whose parts all match its manifest is written
// again with audit.WriteBundle and reads back with the same content.
func FuzzReadBundle(f *testing.F) {
	key := testKey("server")
	pub := key.Public().(ed25519.PublicKey)
	cat, err := i18n.NewCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := audit.ReadBundleWithin(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			return
		}
		held := uint64(len(b.ManifestJSON))
		for _, p := range b.Parts {
			if uint64(len(p.Data)) > fuzzLimits.Part {
				t.Fatalf("part %s holds %d bytes, over the limit of %d", p.Name, len(p.Data), fuzzLimits.Part)
			}
			held += uint64(len(p.Data))
		}
		if held > fuzzLimits.Total {
			t.Fatalf("the bundle holds %d bytes, over the limit of %d", held, fuzzLimits.Total)
		}
		if b.Manifest.Format != audit.BundleFormat || b.Manifest.Version != audit.BundleVersion {
			t.Fatalf("read a bundle of format %q version %d", b.Manifest.Format, b.Manifest.Version)
		}
		partFindings := b.CheckParts()
		checkFindings(t, partFindings)
		sigErr := b.VerifySignature(pub)
		checkArchiveAgrees(t, data, pub, partFindings, sigErr)
		head := b.Manifest.AuditHead
		checkFindings(t, audit.CheckChain(b.Events, &head))
		if runs, ok := parseAll(b.HistoryJSON()); ok {
			facts, fs := audit.ExtractFacts(runs)
			checkFindings(t, fs)
			checkFindings(t, audit.CrossCheck(facts, b.Events))
			checkFindings(t, audit.CheckSnapshots(facts, b.Snapshots))
			checkFindings(t, b.CheckProjection(facts))
			if err := audit.RenderTimeline(io.Discard, audit.Timeline(facts, b.Events, "id", cat), facts.Zone, "id"); err != nil {
				t.Fatalf("audit.RenderTimeline: %v", err)
			}
		}
		if len(partFindings) == 0 && len(b.Histories) > 0 {
			checkReexport(t, b, key)
		}
		if sigErr == nil && b.Manifest.KeyFingerprint != audit.KeyFingerprint(pub) {
			t.Fatal("a signature verified for a manifest naming another key")
		}
	})
}

// checkArchiveAgrees: CheckArchive, which checks an archive without holding its parts (for
// bundles of any size), reads what ReadBundle read and finds what CheckParts and
// VerifySignature found: the same parts of the same kinds, in the same order (CheckParts
// then adds the parts that do not decode, which CheckArchive does not decode).
func checkArchiveAgrees(t *testing.T, data []byte, pub ed25519.PublicKey, partFindings []audit.Finding, sigErr error) {
	t.Helper()
	_, fs, err := audit.CheckArchive(bytes.NewReader(data), int64(len(data)), pub)
	if err != nil {
		t.Fatalf("CheckArchive refuses an archive ReadBundle read: %v", err)
	}
	checkFindings(t, fs)
	var parts []audit.Finding
	signed := true
	for _, f := range fs {
		if f.Kind == audit.KindSignatureInvalid {
			signed = false
			continue
		}
		parts = append(parts, f)
	}
	if signed != (sigErr == nil) {
		t.Fatalf("CheckArchive finds the signature valid %v, VerifySignature: %v", signed, sigErr)
	}
	if len(parts) > len(partFindings) {
		t.Fatalf("CheckArchive finds %d problems with parts, CheckParts %d:\n%v\n%v", len(parts), len(partFindings), parts, partFindings)
	}
	for i, f := range parts {
		if f.Kind != partFindings[i].Kind || f.Part != partFindings[i].Part {
			t.Fatalf("finding %d: CheckArchive %s %s, CheckParts %s %s", i, f.Kind, f.Part, partFindings[i].Kind, partFindings[i].Part)
		}
	}
}

// checkReexport writes b's content as a new bundle and reads it back: the content must be
// the same, and the new bundle whole and signed.
func checkReexport(t *testing.T, b *audit.Bundle, key ed25519.PrivateKey) {
	t.Helper()
	var buf bytes.Buffer
	err := audit.WriteBundle(&buf, audit.Bundle{
		SelectionID: b.SelectionID, WorkflowID: b.WorkflowID, CreatedAt: b.CreatedAt, CodeRevision: b.CodeRevision,
		Histories: b.Histories, Events: b.Events, Snapshots: b.Snapshots, Projection: b.Projection,
	}, key)
	if err != nil {
		t.Fatalf("audit.WriteBundle of a bundle read whole: %v", err)
	}
	again, err := audit.ReadBundle(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("a bundle audit.WriteBundle wrote does not read: %v", err)
	}
	if fs := again.CheckParts(); len(fs) > 0 {
		t.Fatalf("a bundle audit.WriteBundle wrote has findings: %v", fs)
	}
	if err := again.VerifySignature(key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("a bundle audit.WriteBundle wrote does not verify: %v", err)
	}
	if again.SelectionID != b.SelectionID || again.WorkflowID != b.WorkflowID || !again.CreatedAt.Equal(b.CreatedAt) ||
		len(again.Histories) != len(b.Histories) {
		t.Fatalf("re-exported as %q %q %v with %d histories, read as %q %q %v with %d",
			again.SelectionID, again.WorkflowID, again.CreatedAt, len(again.Histories), b.SelectionID, b.WorkflowID, b.CreatedAt, len(b.Histories))
	}
	for i := range b.Histories {
		if !bytes.Equal(again.Histories[i].JSON, b.Histories[i].JSON) {
			t.Fatalf("history %d changed on re-export", i+1)
		}
	}
	for _, pair := range [][2]any{{again.Events, b.Events}, {again.Snapshots, b.Snapshots}, {again.Projection, b.Projection}} {
		x, err1 := json.Marshal(pair[0])
		y, err2 := json.Marshal(pair[1])
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Fatalf("content changed on re-export:\n%s\n%s", x, y)
		}
	}
}

func parseAll(histories [][]byte) ([]*historypb.History, bool) {
	if len(histories) == 0 {
		return nil, false
	}
	runs := make([]*historypb.History, len(histories))
	for i, b := range histories {
		h, err := audit.ParseHistory(b)
		if err != nil {
			return nil, false
		}
		runs[i] = h
	}
	return runs, true
}

// checkFindings: every finding says what kind it is and what is wrong.
func checkFindings(t *testing.T, fs []audit.Finding) {
	t.Helper()
	for _, f := range fs {
		if f.Kind == "" || f.Message == "" {
			t.Fatalf("a finding without kind or message: %+v", f)
		}
	}
}

// FuzzHistory feeds arbitrary documents to audit.ParseHistory, the reader of Temporal's standard
// JSON histories (from a bundle, the Web UI or the CLI), and what it accepts to the fact
// extraction and every check that needs no replay. A parsed history is a history (events,
// WorkflowExecutionStarted first), written again with audit.MarshalHistory it parses to the same
// history, and its facts describe exactly its events.
func FuzzHistory(f *testing.F) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := audit.ParseHistory(data)
		if err != nil {
			return
		}
		events := h.GetEvents()
		if len(events) == 0 || events[0].GetWorkflowExecutionStartedEventAttributes() == nil {
			t.Fatalf("audit.ParseHistory accepted a history without a start: %d events", len(events))
		}
		js, err := audit.MarshalHistory(h)
		if err != nil {
			t.Fatalf("audit.MarshalHistory of a parsed history: %v", err)
		}
		again, err := audit.ParseHistory(js)
		if err != nil {
			t.Fatalf("a history audit.MarshalHistory wrote does not parse: %v", err)
		}
		if !proto.Equal(h, again) {
			t.Fatal("a history written and parsed again differs")
		}
		facts, fs := audit.ExtractFacts([]*historypb.History{h})
		checkFindings(t, fs)
		if len(facts.Runs) != 1 || facts.Runs[0].Events != len(events) || facts.Runs[0].LastEventID != events[len(events)-1].GetEventId() {
			t.Fatalf("facts of %d events describe runs %+v", len(events), facts.Runs)
		}
		ids := map[int64]bool{}
		for _, e := range events {
			ids[e.GetEventId()] = true
		}
		for _, u := range facts.Updates {
			if u.Run != 1 || !ids[u.AcceptedEventID] || (u.CompletedEventID != 0 && !ids[u.CompletedEventID]) {
				t.Fatalf("update %+v names events the history does not hold", u)
			}
		}
		for _, r := range facts.Records {
			if r.Run != 1 || !ids[r.ScheduledEventID] || (r.CompletedEventID != 0 && !ids[r.CompletedEventID]) {
				t.Fatalf("record %+v names events the history does not hold", r)
			}
		}
		if two, _ := audit.ExtractFacts([]*historypb.History{h, h}); len(two.Runs) != 2 || len(two.Updates) != 2*len(facts.Updates) {
			t.Fatalf("facts of the history given twice: %d runs, %d updates (%d once)", len(two.Runs), len(two.Updates), len(facts.Updates))
		}
		checkFindings(t, audit.CrossCheck(facts, nil))
		checkFindings(t, audit.CheckSnapshots(facts, nil))
		checkFindings(t, audit.CheckProjection(facts, audit.ExpectedProjection(facts)))
		for _, lang := range []string{"id", "en"} {
			if err := audit.RenderTimeline(io.Discard, audit.Timeline(facts, nil, lang, cat), facts.Zone, lang); err != nil {
				t.Fatalf("audit.RenderTimeline: %v", err)
			}
		}
	})
}

// FuzzReplay replays what audit.ParseHistory accepts through the current workflow code with the
// SDK's replayer, as `seleksictl audit replay` does with a history file anyone may hand an
// auditor. Whatever the history says, the replay must end with a report (never a panic,
// which in the replayer's goroutine would end the whole process), one run report per run,
// a rebuilt state for a run that replayed, and the same report when run again.
func FuzzReplay(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := audit.ParseHistory(data)
		if err != nil {
			return
		}
		rep, err := audit.ReplayHistories(context.Background(), []*historypb.History{h})
		if err != nil {
			t.Fatalf("audit.ReplayHistories of a parsed history: %v", err)
		}
		if len(rep.Runs) != 1 || rep.Runs[0].Events != len(h.GetEvents()) {
			t.Fatalf("runs %+v for one run of %d events", rep.Runs, len(h.GetEvents()))
		}
		if rep.Runs[0].Replayed != (rep.State != nil) {
			t.Fatalf("run replayed %v with state %v", rep.Runs[0].Replayed, rep.State)
		}
		if !rep.Runs[0].Replayed && rep.OK() {
			t.Fatal("a run that did not replay, and no finding says so")
		}
		checkFindings(t, rep.Findings)
		again, err := audit.ReplayHistories(context.Background(), []*historypb.History{h})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := json.Marshal(rep)
		y, _ := json.Marshal(again)
		if !bytes.Equal(x, y) {
			t.Fatalf("two replays of one history differ:\n%s\n%s", x, y)
		}
	})
}
