package audit

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// zipBomb is an archive of n files, each declaring and holding size zero bytes (a whole
// number of MiB), deflated: about 1 KiB per MiB on disk. The deflate stream is one
// compressed MiB of zeros, flushed to a byte boundary, repeated, then closed: compressing
// the whole size would take seconds.
func zipBomb(t testing.TB, n int, size int64) []byte {
	t.Helper()
	const mib = 1 << 20
	var seg bytes.Buffer
	fw, err := flate.NewWriter(&seg, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, mib)
	_, _ = fw.Write(zeros)
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	flushed := bytes.Clone(seg.Bytes())
	seg.Reset()
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var comp bytes.Buffer
	crc := crc32.NewIEEE()
	for range size / mib {
		comp.Write(flushed)
		_, _ = crc.Write(zeros)
	}
	comp.Write(seg.Bytes())
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

// TestFuzzSeeds writes the seed corpora of the fuzz targets in auditfuzz/testdata/fuzz
// when run with -update (go test ./internal/audit -run TestFuzzSeeds -args -update), from
// the recorded histories and golden bundles; without it, it checks that they are there.
func TestFuzzSeeds(t *testing.T) {
	if !*update {
		for _, target := range []string{"FuzzReadBundle", "FuzzHistory", "FuzzReplay"} {
			if m, _ := filepath.Glob(filepath.Join("auditfuzz", "testdata", "fuzz", target, "*")); len(m) == 0 {
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
		dir := filepath.Join("auditfuzz", "testdata", "fuzz", target)
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

// TestZipBombIsABomb: the archive zipBomb builds holds what it declares, so that the tests
// above refuse a real bomb, not a broken archive.
func TestZipBombIsABomb(t *testing.T) {
	data := zipBomb(t, 2, 3<<20)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != 3<<20 {
			t.Fatalf("%s: %d bytes, %v", f.Name, n, err)
		}
	}
}
