package audit

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// countingWriter counts what reaches it, as a gRPC stream or an HTTP response would.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestBundleWriterStreams checks that a part reaches the destination while it is written,
// not when the bundle is closed: a bundle is never held whole in memory, whatever its size.
func TestBundleWriterStreams(t *testing.T) {
	key := testKey("server")
	const partSize = 8 << 20
	// Random bytes do not deflate, so what leaves the writer is about the part's size.
	big := make([]byte, partSize)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(big)

	var out countingWriter
	bw, err := NewBundleWriter(&out, BundleHeader{SelectionID: "sel-big", WorkflowID: "selection-sel-big", CreatedAt: exportTime}, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := bw.WriteHistory("run-1", big); err != nil {
		t.Fatal(err)
	}
	// The zip's deflater keeps at most a window of a few tens of KiB.
	if out.n < partSize-(1<<20) {
		t.Fatalf("after an 8 MiB part only %d bytes reached the destination: the writer buffers", out.n)
	}
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBundleWriterLayout writes a bundle part by part and reads it back: the parts first,
// in the bundle's order, then the manifest and its signature, and everything verifies.
func TestBundleWriterLayout(t *testing.T) {
	key := testKey("server")
	pub := key.Public().(ed25519.PublicKey)
	h := recorded(t)["happy-path"]
	rep, err := Replay(context.Background(), [][]byte{h})
	if err != nil {
		t.Fatal(err)
	}
	events := eventsFromFacts(t, rep.Facts, true)
	digests := digestsFromFacts(rep.Facts)
	projection := ExpectedProjection(rep.Facts)

	var buf bytes.Buffer
	bw, err := NewBundleWriter(&buf, BundleHeader{SelectionID: rep.Facts.SelectionID, WorkflowID: rep.Facts.WorkflowID, CreatedAt: exportTime}, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return bw.WriteHistory("", h) },
		func() error { return bw.WriteEvents(events) },
		func() error { return bw.WriteSnapshots(digests) },
		func() error { return bw.WriteProjection(projection) },
		bw.Close,
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	// The same content through WriteBundle gives the same bytes.
	var whole bytes.Buffer
	if err := WriteBundle(&whole, Bundle{SelectionID: rep.Facts.SelectionID, WorkflowID: rep.Facts.WorkflowID, CreatedAt: exportTime,
		Histories: []RunHistory{{JSON: h}}, Events: events, Snapshots: digests, Projection: projection}, key); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), whole.Bytes()) {
		t.Error("the BundleWriter and WriteBundle write different archives for the same content")
	}

	data := buf.Bytes()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	b := readBundle(t, data)
	want := []string{b.Manifest.Parts[0].Name, EventsPart, SnapshotsPart, ProjectionPart, ManifestName, SignatureName}
	if !slices.Equal(names, want) {
		t.Errorf("archive order %v, want %v", names, want)
	}
	if err := b.VerifySignature(pub); err != nil {
		t.Fatal(err)
	}
	if b.Histories[0].RunID == "" || b.Manifest.AuditHead != Head(events) {
		t.Errorf("run ID %q, audit head %+v (want %+v)", b.Histories[0].RunID, b.Manifest.AuditHead, Head(events))
	}
	v, err := VerifyBundle(context.Background(), b, pub)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Errorf("findings: %v", v.Findings)
	}
	if _, fs, err := CheckArchive(bytes.NewReader(data), int64(len(data)), pub); err != nil || len(fs) > 0 {
		t.Errorf("CheckArchive: %v %v", fs, err)
	}
}

func TestBundleWriterRefuses(t *testing.T) {
	key := testKey("server")
	h := recorded(t)["happy-path"]
	tests := map[string]func(bw *BundleWriter) error{
		"no history": func(bw *BundleWriter) error { return bw.Close() },
		"a history after the events": func(bw *BundleWriter) error {
			if err := bw.WriteHistory("", h); err != nil {
				return nil
			}
			if err := bw.WriteEvents(nil); err != nil {
				return nil
			}
			return bw.WriteHistory("", h)
		},
		"the events twice": func(bw *BundleWriter) error {
			if err := bw.WriteHistory("", h); err != nil {
				return nil
			}
			if err := bw.WriteEvents(nil); err != nil {
				return nil
			}
			return bw.WriteEvents(nil)
		},
	}
	for name, run := range tests {
		t.Run(name, func(t *testing.T) {
			bw, err := NewBundleWriter(&countingWriter{}, BundleHeader{CreatedAt: exportTime}, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := run(bw); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestWriteJSONArray checks that the parts written item by item are byte for byte what
// json.MarshalIndent wrote before, so bundles keep their digests' meaning.
func TestWriteJSONArray(t *testing.T) {
	h := recorded(t)["happy-path"]
	rep, err := Replay(context.Background(), [][]byte{h})
	if err != nil {
		t.Fatal(err)
	}
	events := eventsFromFacts(t, rep.Facts, true)
	events[0].Reason = `<script>&"quoted"</script>`
	check := func(t *testing.T, v any, got func(*bytes.Buffer) error) {
		t.Helper()
		want, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if string(want) == "null" {
			want = []byte("[]")
		}
		var buf bytes.Buffer
		if err := got(&buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), append(want, '\n')) {
			t.Errorf("got\n%s\nwant\n%s", buf.Bytes(), want)
		}
	}
	t.Run("events", func(t *testing.T) { check(t, events, func(b *bytes.Buffer) error { return writeJSONArray(b, events) }) })
	t.Run("one event", func(t *testing.T) {
		check(t, events[:1], func(b *bytes.Buffer) error { return writeJSONArray(b, events[:1]) })
	})
	t.Run("no events", func(t *testing.T) {
		check(t, []AuditEvent{}, func(b *bytes.Buffer) error { return writeJSONArray[AuditEvent](b, nil) })
	})
	rows := ExpectedProjection(rep.Facts)
	t.Run("projection", func(t *testing.T) { check(t, rows, func(b *bytes.Buffer) error { return writeJSONArray(b, rows) }) })
	ds := []SnapshotDigest{{Key: "snapshot-1", Digest: "ab", Applications: 3}}
	t.Run("digests", func(t *testing.T) { check(t, ds, func(b *bytes.Buffer) error { return writeJSONArray(b, ds) }) })
}

// TestCheckArchiveGolden checks the streaming check on the bundles kept under testdata/,
// which were written with the manifest first, before bundles were streamed.
func TestCheckArchiveGolden(t *testing.T) {
	pub := testKey("server").Public().(ed25519.PublicKey)
	files, err := filepath.Glob(filepath.Join("testdata", "*.bundle.zip"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden bundles: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, fs, err := CheckArchive(bytes.NewReader(data), int64(len(data)), pub)
		if err != nil || len(fs) > 0 || m.SelectionID == "" {
			t.Errorf("%s: manifest %v, findings %v, error %v", f, m, fs, err)
		}
		if _, fs, _ := CheckArchive(bytes.NewReader(data), int64(len(data)), testKey("impostor").Public().(ed25519.PublicKey)); len(fs) != 1 || fs[0].Kind != KindSignatureInvalid {
			t.Errorf("%s with another key: %v", f, fs)
		}
	}
}
