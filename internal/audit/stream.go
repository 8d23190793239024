package audit

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"
)

// BundleHeader is what a bundle says about itself before any part is written.
type BundleHeader struct {
	SelectionID string
	WorkflowID  string
	CreatedAt   time.Time
	// CodeRevision is recorded in the manifest; empty means the running code's
	// (CodeRevision()).
	CodeRevision string
}

// BundleWriter writes a bundle part by part, so that a bundle of any size streams to its
// destination (a gRPC stream, an HTTP response, a file) without ever being held in memory:
// each part is deflated into the archive as it is written and hashed on the way, and Close
// then writes the manifest, which lists every part with its size and SHA-256, and the
// signature over it. The manifest and its signature therefore come after the parts in the
// archive; a zip is read through its central directory, so ReadBundle reads either order.
//
// Parts are written in the bundle's order: every history (oldest run first), then the
// audit events, the snapshot digests, the projection and the documents' digests. Close writes the events and the
// digests as empty lists when they were not written. A BundleWriter is not safe for
// concurrent use.
type BundleWriter struct {
	zw     *zip.Writer
	signer crypto.Signer
	m      Manifest
	// phase is the last kind of part written; parts may not go back to an earlier kind.
	phase  int
	err    error
	closed bool
}

// The kinds of part in their order in a bundle.
const (
	phaseHistories = iota + 1
	phaseEvents
	phaseSnapshots
	phaseProjection
	phaseDocuments
	phaseClosed
)

// NewBundleWriter starts a bundle on w. signer must hold an Ed25519 key (the server's key,
// auth.LocalKey.Signer()). Nothing is written until the first part.
func NewBundleWriter(w io.Writer, h BundleHeader, signer crypto.Signer) (*BundleWriter, error) {
	pub, ok := signer.Public().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("write bundle: the signer holds a %T, want an Ed25519 key", signer.Public())
	}
	m := Manifest{
		Format: BundleFormat, Version: BundleVersion,
		SelectionID: h.SelectionID, WorkflowID: h.WorkflowID,
		CreatedAt: h.CreatedAt.UTC(), AuditHead: Head(nil),
		KeyFingerprint: KeyFingerprint(pub), CodeRevision: h.CodeRevision,
		Parts: []PartInfo{},
	}
	if m.CodeRevision == "" {
		m.CodeRevision = CodeRevision()
	}
	return &BundleWriter{zw: zip.NewWriter(w), signer: signer, m: m}, nil
}

// WriteHistory writes one run's history in Temporal's standard JSON form, as the next run.
// runID names the run; empty takes it from the history itself.
func (bw *BundleWriter) WriteHistory(runID string, history []byte) error {
	if err := bw.enter(phaseHistories); err != nil {
		return err
	}
	if runID == "" {
		if parsed, err := ParseHistory(history); err == nil {
			runID = parsed.Events[0].GetWorkflowExecutionStartedEventAttributes().GetOriginalExecutionRunId()
		}
	}
	run := 0
	for _, p := range bw.m.Parts {
		if p.MediaType == MediaTypeHistory {
			run++
		}
	}
	run++
	name := fmt.Sprintf("%s%03d-%s.json", historyDir, run, safeName(runID))
	return bw.part(PartInfo{Name: name, MediaType: MediaTypeHistory, Run: run, RunID: runID}, func(w io.Writer) error {
		_, err := w.Write(history)
		return err
	})
}

// WriteEvents writes the selection's audit chain, in order; its head is what the manifest
// signs as the chain's end.
func (bw *BundleWriter) WriteEvents(events []AuditEvent) error {
	if err := bw.enter(phaseEvents); err != nil {
		return err
	}
	bw.m.AuditHead = Head(events)
	return bw.part(PartInfo{Name: EventsPart, MediaType: MediaTypeEvents}, func(w io.Writer) error {
		return writeJSONArray(w, events)
	})
}

// WriteSnapshots writes the store's digests of the frozen application snapshots (after an
// empty audit chain when none was written).
func (bw *BundleWriter) WriteSnapshots(digests []SnapshotDigest) error {
	if bw.phase < phaseEvents {
		if err := bw.WriteEvents(nil); err != nil {
			return err
		}
	}
	if err := bw.enter(phaseSnapshots); err != nil {
		return err
	}
	return bw.part(PartInfo{Name: SnapshotsPart, MediaType: MediaTypeDigests}, func(w io.Writer) error {
		return writeJSONArray(w, digests)
	})
}

// WriteProjection writes the store's projection of the selection at export (after empty
// events and digests when they were not written).
func (bw *BundleWriter) WriteProjection(rows []ProjectionRow) error {
	if bw.phase < phaseSnapshots {
		if err := bw.WriteSnapshots(nil); err != nil {
			return err
		}
	}
	if err := bw.enter(phaseProjection); err != nil {
		return err
	}
	return bw.part(PartInfo{Name: ProjectionPart, MediaType: MediaTypeProjection}, func(w io.Writer) error {
		return writeJSONArray(w, rows)
	})
}

// WriteDocuments writes the description and digest of every document of the selection
// (never their content), after the projection; bundles without documents leave it out.
func (bw *BundleWriter) WriteDocuments(docs []DocumentDigest) error {
	if bw.phase < phaseSnapshots {
		if err := bw.WriteSnapshots(nil); err != nil {
			return err
		}
	}
	if err := bw.enter(phaseDocuments); err != nil {
		return err
	}
	return bw.part(PartInfo{Name: DocumentsPart, MediaType: MediaTypeDocuments}, func(w io.Writer) error {
		return writeJSONArray(w, docs)
	})
}

// Close writes what is missing of the events and digests, the manifest and its signature,
// and the archive's central directory. It does not close the underlying writer. A bundle
// without a history is refused: it would prove nothing.
func (bw *BundleWriter) Close() error {
	if bw.closed {
		return bw.err
	}
	if bw.phase < phaseSnapshots {
		if err := bw.WriteSnapshots(nil); err != nil {
			return err
		}
	}
	if err := bw.enter(phaseClosed); err != nil {
		return err
	}
	bw.closed = true
	bw.err = bw.finish()
	return bw.err
}

func (bw *BundleWriter) finish() error {
	histories := 0
	for _, p := range bw.m.Parts {
		if p.MediaType == MediaTypeHistory {
			histories++
		}
	}
	if histories == 0 {
		return errors.New("write bundle: no history")
	}
	mb, err := canonicalManifest(bw.m)
	if err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	// Ed25519 signs the message itself (crypto.Hash(0)); there is no pre-hash to choose.
	sig, err := bw.signer.Sign(rand.Reader, mb, crypto.Hash(0))
	if err != nil {
		return fmt.Errorf("write bundle: sign the manifest: %w", err)
	}
	sigb, err := json.MarshalIndent(Signature{Algorithm: SignatureAlgorithm, KeyFingerprint: bw.m.KeyFingerprint, Value: sig}, "", "  ")
	if err != nil {
		return fmt.Errorf("write bundle: encode the signature: %w", err)
	}
	for _, f := range []Part{{Name: ManifestName, Data: mb}, {Name: SignatureName, Data: append(sigb, '\n')}} {
		fw, err := bw.create(f.Name)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("write bundle: %s: %w", f.Name, err)
		}
	}
	if err := bw.zw.Close(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}

// enter moves to the given kind of part, refusing to go back: the manifest lists parts in
// the order they were written, and readers expect the bundle's order.
func (bw *BundleWriter) enter(phase int) error {
	switch {
	case bw.err != nil:
		return bw.err
	case bw.closed:
		return errors.New("write bundle: already closed")
	case phase < bw.phase || (phase == bw.phase && phase != phaseHistories):
		return fmt.Errorf("write bundle: part out of order (kind %d after kind %d)", phase, bw.phase)
	}
	bw.phase = phase
	return nil
}

func (bw *BundleWriter) create(name string) (io.Writer, error) {
	fw, err := bw.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: bw.m.CreatedAt})
	if err != nil {
		return nil, fmt.Errorf("write bundle: %s: %w", name, err)
	}
	return fw, nil
}

// part writes one part through write, counting and hashing its bytes for the manifest. A
// failure leaves the archive unusable, so every later call reports it.
func (bw *BundleWriter) part(info PartInfo, write func(io.Writer) error) error {
	fw, err := bw.create(info.Name)
	if err == nil {
		d := &digestWriter{w: fw, h: sha256.New()}
		if err = write(d); err == nil {
			info.Size, info.SHA256 = d.n, hex.EncodeToString(d.h.Sum(nil))
			bw.m.Parts = append(bw.m.Parts, info)
			return nil
		}
		err = fmt.Errorf("write bundle: %s: %w", info.Name, err)
	}
	bw.err = err
	return err
}

// digestWriter passes bytes on while counting and hashing them.
type digestWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (d *digestWriter) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// writeJSONArray writes items as json.MarshalIndent(items, "", "  ") followed by a newline
// would, one item at a time, so that a long list (the audit chain of a large selection) is
// never encoded into one buffer. nil is written as [], as bundles always held a list.
func writeJSONArray[T any](w io.Writer, items []T) error {
	if len(items) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	var buf bytes.Buffer
	for i := range items {
		buf.Reset()
		if i == 0 {
			buf.WriteString("[\n  ")
		} else {
			buf.WriteString(",\n  ")
		}
		b, err := json.MarshalIndent(items[i], "  ", "  ")
		if err != nil {
			return fmt.Errorf("encode item %d: %w", i, err)
		}
		buf.Write(b)
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}

// CheckArchive checks a bundle archive without holding its parts in memory: it reads the
// manifest and its signature, verifies the signature with pub (when pub is not nil), and
// hashes every other file as it decompresses it, comparing it with the manifest as
// CheckParts does (every listed part present with its size and SHA-256, nothing unlisted).
// It does not decode the parts or replay the histories; ReadBundle and VerifyBundle do. It
// fails only when the archive is not a bundle at all, as ReadBundle does; every other
// problem is a finding.
func CheckArchive(r io.ReaderAt, size int64, pub ed25519.PublicKey) (*Manifest, []Finding, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("read bundle: %w", err)
	}
	b := &Bundle{}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if files[f.Name] != nil {
			return nil, nil, fmt.Errorf("read bundle: the archive holds %s twice", f.Name)
		}
		files[f.Name] = f
	}
	mf := files[ManifestName]
	if mf == nil {
		return nil, nil, fmt.Errorf("read bundle: no %s", ManifestName)
	}
	if b.ManifestJSON, err = readZipFile(mf, maxPartSize); err != nil {
		return nil, nil, fmt.Errorf("read bundle: %s: %w", ManifestName, err)
	}
	if err := json.Unmarshal(b.ManifestJSON, &b.Manifest); err != nil {
		return nil, nil, fmt.Errorf("read bundle: %s: %w", ManifestName, err)
	}
	if m := b.Manifest; m.Format != BundleFormat || m.Version != BundleVersion {
		return nil, nil, fmt.Errorf("read bundle: format %q version %d, this build reads %q version %d", m.Format, m.Version, BundleFormat, BundleVersion)
	}
	var fs []Finding
	if sf := files[SignatureName]; sf != nil {
		if data, err := readZipFile(sf, maxPartSize); err == nil {
			var s Signature
			if json.Unmarshal(data, &s) == nil {
				b.Signature = &s
			}
		}
	}
	if pub != nil {
		if err := b.VerifySignature(pub); err != nil {
			fs = append(fs, Finding{Kind: KindSignatureInvalid, Part: SignatureName, Message: err.Error()})
		}
	}
	var names []string
	for _, f := range zr.File {
		if f.Name != ManifestName && f.Name != SignatureName && !strings.HasSuffix(f.Name, "/") {
			names = append(names, f.Name)
		}
	}
	fs = append(fs, compareParts(b.Manifest, names, func(name string, listed int64) (int64, string, bool, error) {
		f := files[name]
		if f == nil {
			return 0, "", false, nil
		}
		n, sum, err := hashZipFile(f, listed)
		return n, sum, true, err
	})...)
	return &b.Manifest, fs, nil
}

// hashZipFile hashes a file of the archive as it decompresses it, reading at most one byte
// more than the manifest lists, so that a crafted archive cannot keep it busy.
func hashZipFile(f *zip.File, listed int64) (int64, string, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rc, max(listed, 0)+1))
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
