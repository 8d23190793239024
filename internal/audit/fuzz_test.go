package audit

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// fuzzLimits are the read limits of the fuzz targets: small enough that an input can reach
// them within a fuzzing run (the real ones are hundreds of MiB), the same code otherwise.
var fuzzLimits = readLimits{part: 1 << 20, total: 4 << 20}

// FuzzReadBundle feeds arbitrary archives to the bundle reader behind `seleksictl audit
// replay` and `audit timeline`, which read bundles an auditor received from anyone. It must
// never panic and never hold more than its limits, whatever the archive declares (zip
// bombs, huge or lying sizes, duplicate and traversal names); what it reads goes through
// every check that needs no replay. A bundle whose parts all match its manifest is written
// again with WriteBundle and reads back with the same content.
func FuzzReadBundle(f *testing.F) {
	key := testKey("server")
	pub := key.Public().(ed25519.PublicKey)
	cat, err := i18n.NewCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := readBundleWithin(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			return
		}
		held := uint64(len(b.ManifestJSON))
		for _, p := range b.Parts {
			if uint64(len(p.Data)) > fuzzLimits.part {
				t.Fatalf("part %s holds %d bytes, over the limit of %d", p.Name, len(p.Data), fuzzLimits.part)
			}
			held += uint64(len(p.Data))
		}
		if held > fuzzLimits.total {
			t.Fatalf("the bundle holds %d bytes, over the limit of %d", held, fuzzLimits.total)
		}
		if b.Manifest.Format != BundleFormat || b.Manifest.Version != BundleVersion {
			t.Fatalf("read a bundle of format %q version %d", b.Manifest.Format, b.Manifest.Version)
		}
		partFindings := b.CheckParts()
		checkFindings(t, partFindings)
		sigErr := b.VerifySignature(pub)
		head := b.Manifest.AuditHead
		checkFindings(t, CheckChain(b.Events, &head))
		if runs, ok := parseAll(b.HistoryJSON()); ok {
			facts, fs := ExtractFacts(runs)
			checkFindings(t, fs)
			checkFindings(t, CrossCheck(facts, b.Events))
			checkFindings(t, CheckSnapshots(facts, b.Snapshots))
			checkFindings(t, b.CheckProjection(facts))
			if err := RenderTimeline(io.Discard, Timeline(facts, b.Events, "id", cat), facts.Zone, "id"); err != nil {
				t.Fatalf("RenderTimeline: %v", err)
			}
		}
		if len(partFindings) == 0 && len(b.Histories) > 0 {
			checkReexport(t, b, key)
		}
		if sigErr == nil && b.Manifest.KeyFingerprint != KeyFingerprint(pub) {
			t.Fatal("a signature verified for a manifest naming another key")
		}
	})
}

// checkReexport writes b's content as a new bundle and reads it back: the content must be
// the same, and the new bundle whole and signed.
func checkReexport(t *testing.T, b *Bundle, key ed25519.PrivateKey) {
	t.Helper()
	var buf bytes.Buffer
	err := WriteBundle(&buf, Bundle{
		SelectionID: b.SelectionID, WorkflowID: b.WorkflowID, CreatedAt: b.CreatedAt, CodeRevision: b.CodeRevision,
		Histories: b.Histories, Events: b.Events, Snapshots: b.Snapshots, Projection: b.Projection,
	}, key)
	if err != nil {
		t.Fatalf("WriteBundle of a bundle read whole: %v", err)
	}
	again, err := readBundleWithin(bytes.NewReader(buf.Bytes()), int64(buf.Len()), readLimits{part: maxPartSize, total: maxBundleSize})
	if err != nil {
		t.Fatalf("a bundle WriteBundle wrote does not read: %v", err)
	}
	if fs := again.CheckParts(); len(fs) > 0 {
		t.Fatalf("a bundle WriteBundle wrote has findings: %v", fs)
	}
	if err := again.VerifySignature(key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("a bundle WriteBundle wrote does not verify: %v", err)
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
		h, err := ParseHistory(b)
		if err != nil {
			return nil, false
		}
		runs[i] = h
	}
	return runs, true
}

// checkFindings: every finding says what kind it is and what is wrong.
func checkFindings(t *testing.T, fs []Finding) {
	t.Helper()
	for _, f := range fs {
		if f.Kind == "" || f.Message == "" {
			t.Fatalf("a finding without kind or message: %+v", f)
		}
	}
}

// FuzzHistory feeds arbitrary documents to ParseHistory, the reader of Temporal's standard
// JSON histories (from a bundle, the Web UI or the CLI), and what it accepts to the fact
// extraction and every check that needs no replay. A parsed history is a history (events,
// WorkflowExecutionStarted first), written again with MarshalHistory it parses to the same
// history, and its facts describe exactly its events.
func FuzzHistory(f *testing.F) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHistory(data)
		if err != nil {
			return
		}
		events := h.GetEvents()
		if len(events) == 0 || events[0].GetWorkflowExecutionStartedEventAttributes() == nil {
			t.Fatalf("ParseHistory accepted a history without a start: %d events", len(events))
		}
		js, err := MarshalHistory(h)
		if err != nil {
			t.Fatalf("MarshalHistory of a parsed history: %v", err)
		}
		again, err := ParseHistory(js)
		if err != nil {
			t.Fatalf("a history MarshalHistory wrote does not parse: %v", err)
		}
		if !proto.Equal(h, again) {
			t.Fatal("a history written and parsed again differs")
		}
		facts, fs := ExtractFacts([]*historypb.History{h})
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
		checkFindings(t, checkRunChain([]*historypb.History{h}, facts))
		two, _ := ExtractFacts([]*historypb.History{h, h})
		checkFindings(t, checkRunChain([]*historypb.History{h, h}, two))
		checkFindings(t, CrossCheck(facts, nil))
		checkFindings(t, CheckSnapshots(facts, nil))
		checkFindings(t, CheckProjection(facts, ExpectedProjection(facts)))
		for _, lang := range []string{"id", "en"} {
			if err := RenderTimeline(io.Discard, Timeline(facts, nil, lang, cat), facts.Zone, lang); err != nil {
				t.Fatalf("RenderTimeline: %v", err)
			}
		}
	})
}

// FuzzReplay replays what ParseHistory accepts through the current workflow code with the
// SDK's replayer, as `seleksictl audit replay` does with a history file anyone may hand an
// auditor. Whatever the history says, the replay must end with a report (never a panic,
// which in the replayer's goroutine would end the whole process), one run report per run,
// a rebuilt state for a run that replayed, and the same report when run again.
func FuzzReplay(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHistory(data)
		if err != nil {
			return
		}
		rep, err := ReplayHistories(context.Background(), []*historypb.History{h})
		if err != nil {
			t.Fatalf("ReplayHistories of a parsed history: %v", err)
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
		again, err := ReplayHistories(context.Background(), []*historypb.History{h})
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

// zipBomb is an archive of n files, each declaring and holding size zero bytes, deflated:
// a few KiB per file on disk whatever size is.
func zipBomb(t testing.TB, n int, size int64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	crc := crc32.NewIEEE()
	for left := size; left > 0; left -= int64(len(zeros)) {
		chunk := zeros[:min(int64(len(zeros)), left)]
		_, _ = fw.Write(chunk)
		_, _ = crc.Write(chunk)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for i := range n {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("history/%03d-bomb.json", i+1), Method: zip.Deflate,
			CRC32: crc.Sum32(), CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(size)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(comp.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestReadBundleRefusesZipBomb: five files of 220 MiB of zeros, each under the per-file
// limit, 1.1 GiB in all from an archive of about 1 MiB. ReadBundle used to decompress and
// keep all of it; it must refuse the archive from its directory, decompressing nothing.
func TestReadBundleRefusesZipBomb(t *testing.T) {
	bomb := zipBomb(t, 5, 220<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ReadBundle(bytes.NewReader(bomb), int64(len(bomb)))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("ReadBundle of a %d-byte archive declaring 1.1 GiB: %v", len(bomb), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("ReadBundle allocated %d MiB for a %d KiB archive", alloc>>20, len(bomb)>>10)
	}
}

// storedZip rewrites an archive with every file stored uncompressed and without a CRC
// (which archive/zip then does not check), so that a fuzzer's byte edits reach the
// manifest and the parts instead of breaking the compression or the checksum.
func storedZip(t testing.TB, data []byte, edit func(name string, b []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
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
		w, err := zw.CreateRaw(&zip.FileHeader{Name: f.Name, Method: zip.Store, CompressedSize64: uint64(len(b)), UncompressedSize64: uint64(len(b))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// truncatedHistory keeps the first n events of a recorded history: a run still open,
// small enough for a fuzzer to work on.
func truncatedHistory(t testing.TB, b []byte, n int) []byte {
	t.Helper()
	h, err := ParseHistory(b)
	if err != nil {
		t.Fatal(err)
	}
	h.Events = h.Events[:min(n, len(h.Events))]
	js, err := MarshalHistory(h)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestFuzzSeeds writes the seed corpora of the fuzz targets under testdata/fuzz when run
// with -update (go test ./internal/audit -run TestFuzzSeeds -args -update), from the
// recorded histories and golden bundles; without it, it checks that they are there.
func TestFuzzSeeds(t *testing.T) {
	if !*update {
		for _, target := range []string{"FuzzReadBundle", "FuzzHistory", "FuzzReplay"} {
			if m, _ := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*")); len(m) == 0 {
				t.Errorf("no seed corpus for %s: run with -args -update", target)
			}
		}
		return
	}
	key := testKey("server")
	hist := recorded(t)
	small := truncatedHistory(t, hist["extended-then-postponed"], 24)
	seeds := map[string]map[string][]byte{"FuzzReadBundle": {}, "FuzzHistory": {}, "FuzzReplay": {}}

	golden, err := os.ReadFile(filepath.Join("testdata", "extended-then-postponed.bundle.zip"))
	if err != nil {
		t.Fatal(err)
	}
	rb := seeds["FuzzReadBundle"]
	rb["golden-extended-then-postponed"] = golden
	smallBundle := makeBundle(t, small, key)
	rb["open-run"] = smallBundle
	rb["open-run-stored"] = storedZip(t, smallBundle, nil)
	rb["zip-bomb"] = zipBomb(t, 6, 1<<20)
	rb["part-over-limit"] = zipBomb(t, 1, 2<<20)
	rb["not-a-zip"] = []byte("PK\x03\x04 but not really")
	rb["traversal-names"] = storedZip(t, rewriteZip(t, smallBundle, nil,
		Part{Name: "../../etc/passwd", Data: []byte("x")}, Part{Name: "/abs", Data: []byte("y")},
		Part{Name: "history/../manifest.json", Data: []byte("{}")}, Part{Name: "dir/", Data: nil}), nil)
	rb["manifest-lists-unsafe-parts"] = storedZip(t, smallBundle, func(name string, b []byte) []byte {
		if name != ManifestName {
			return b
		}
		return bytes.Replace(b, []byte(`"parts":[`), []byte(`"parts":[{"name":"../x","mediaType":"application/vnd.temporal.history+json","size":1,"sha256":"00"},{"name":"audit/events.json","mediaType":"application/vnd.seleksi.audit-events+json","size":-1,"sha256":""},`), 1)
	})
	rb["events-wrong-types"] = storedZip(t, smallBundle, func(name string, b []byte) []byte {
		if name == EventsPart {
			return []byte(`[{"seq":"1","workflowTime":"yesterday","payload":{"a":[1,2,{}]}},null,7]`)
		}
		if name == ProjectionPart {
			return []byte(`[{"table":null,"key":[],"columns":{"x":{"y":1}}}]`)
		}
		return b
	})

	hs := seeds["FuzzHistory"]
	hs["open-run"] = small
	hs["first-event-only"] = truncatedHistory(t, hist["extended-then-postponed"], 1)
	var doc struct {
		Events json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(small, &doc); err != nil {
		t.Fatal(err)
	}
	hs["array-of-events"] = doc.Events
	hs["wrapped"] = append(append([]byte(`{"history":{"events":`), doc.Events...), []byte(`}}`)...)
	hs["short-enums"] = bytes.ReplaceAll(small, []byte(`"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"`), []byte(`"WorkflowExecutionStarted"`))
	hs["byte-order-mark"] = append([]byte("\xef\xbb\xbf"), small...)
	hs["not-started-first"] = []byte(`{"events":[{"eventId":"1","eventType":"EVENT_TYPE_TIMER_FIRED"}]}`)
	hs["started-without-attributes"] = []byte(`{"events":[{"eventId":"1","eventType":"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"},{"eventId":"2","eventType":"EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED"},{"eventId":"3","eventType":"EVENT_TYPE_ACTIVITY_TASK_SCHEDULED","activityTaskScheduledEventAttributes":{"activityType":{"name":"ApplyCommand"},"input":{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"bnVsbA=="}]}}}]}`)

	hs["started-empty-attributes"] = []byte(`{"events":[{"eventId":"1","eventType":"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED","workflowExecutionStartedEventAttributes":{}},{"eventId":"2","eventType":"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED"},{"eventId":"3","eventType":"EVENT_TYPE_WORKFLOW_TASK_STARTED"},{"eventId":"4","eventType":"EVENT_TYPE_WORKFLOW_TASK_COMPLETED"},{"eventId":"5","eventType":"EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"}]}`)

	rp := seeds["FuzzReplay"]
	rp["open-run"] = small
	rp["first-task"] = truncatedHistory(t, hist["extended-then-postponed"], 4)
	rp["started-empty-attributes"] = hs["started-empty-attributes"]

	for target, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), corpusFile(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// corpusFile encodes one []byte input in the format of go test's fuzz corpus files.
func corpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}
