package audit

import (
	"archive/zip"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// The bundle format. A bundle is one zip archive holding manifest.json (the signed
// manifest), manifest.sig (the signature) and the parts the manifest lists: one history
// per workflow run (history/NNN-<runID>.json, standard JSON, in run order), the audit chain
// (audit/events.json, a JSON array of AuditEvent in chain order) and the store's digests of
// the frozen application snapshots (audit/snapshots.json, a JSON array of SnapshotDigest),
// and the published results and every other projected row as the store served them at
// export (audit/projection.json, a JSON array of ProjectionRow; bundles written before it
// existed lack it).
// Everything an auditor needs is inside it and nothing in it needs the server: the manifest
// fixes each part's SHA-256, and the signature fixes the manifest. The server writes the
// parts first and the manifest and its signature last (it streams the bundle and learns
// each part's digest as it goes); bundles written before put the manifest first. Readers
// go by the zip's central directory and accept either order.
const (
	BundleFormat  = "seleksi-audit-bundle"
	BundleVersion = 1

	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
	EventsPart    = "audit/events.json"
	SnapshotsPart = "audit/snapshots.json"
	historyDir    = "history/"

	// MediaTypeHistory is the protojson of temporal.api.history.v1.History.
	MediaTypeHistory = "application/vnd.temporal.history+json"
	MediaTypeEvents  = "application/vnd.seleksi.audit-events+json"
	MediaTypeDigests = "application/vnd.seleksi.snapshot-digests+json"

	// SignatureAlgorithm is the only algorithm bundles are signed with, named as JWS and
	// JWK name it (RFC 8037): EdDSA, over the Ed25519 curve. The API and manifest.sig use
	// this one label.
	SignatureAlgorithm = "EdDSA"
	// legacySignatureAlgorithm is how manifest.sig named the same algorithm in bundles
	// written before; they still verify.
	legacySignatureAlgorithm = "ed25519"

	// maxPartSize bounds what ReadBundle decompresses per file, and maxBundleSize what it
	// decompresses in all, so that a crafted archive cannot exhaust memory: without the
	// second, N entries sharing one compressed 256 MiB stream (a zip bomb of about 250 KiB
	// per entry) made ReadBundle hold N × 256 MiB. Temporal caps one run's history at 50 MB.
	maxPartSize   = 256 << 20
	maxBundleSize = 1 << 30
)

// ReadLimits bound what ReadBundleWithin decompresses: per file and in all.
type ReadLimits struct {
	Part, Total uint64
}

// The projection part holds the store's projected rows: the published stage results with
// their entries, each application's result lines and status, objections and answers,
// conflicts, the appointment, the selection's stage and windows.
const (
	ProjectionPart      = "audit/projection.json"
	MediaTypeProjection = "application/vnd.seleksi.projection+json"
)

// The documents part describes every document candidates uploaded to the selection: its
// ID, the application it is attached to, kind, media type, size, SHA-256 and state, never
// its content or file name. `seleksictl audit verify-document` checks a file against it.
const (
	DocumentsPart      = "audit/documents.json"
	MediaTypeDocuments = "application/vnd.seleksi.documents+json"
)

// DocumentDigest is one uploaded document as the bundle describes it.
type DocumentDigest struct {
	DocumentID string `json:"documentId"`
	// ApplicationID is the application the document is (or, when replaced, was) attached
	// to; empty for a document never attached.
	ApplicationID string `json:"applicationId,omitempty"`
	Kind          string `json:"kind"`
	MediaType     string `json:"mediaType"`
	SizeBytes     int64  `json:"sizeBytes"`
	SHA256        string `json:"sha256"`
	// State is uploaded, attached, replaced or erased.
	State string `json:"state"`
}

// Manifest describes a bundle. Its canonical JSON encoding (see CanonicalJSON) is what is
// signed and what manifest.json holds.
type Manifest struct {
	Format      string    `json:"format"`
	Version     int       `json:"version"`
	SelectionID string    `json:"selectionId"`
	WorkflowID  string    `json:"workflowId"`
	CreatedAt   time.Time `json:"createdAt"`
	// AuditHead is the head of the audit chain at export, so that events removed from the
	// end of the chain are detected as well as those removed from the middle.
	AuditHead ChainHead `json:"auditHead"`
	// KeyFingerprint identifies the key that signed the bundle (see KeyFingerprint).
	KeyFingerprint string `json:"keyFingerprint"`
	// CodeRevision identifies the code that wrote the bundle (see CodeRevision), so that an
	// auditor knows which revision's messages and rules to read it with. Bundles written
	// before it was recorded leave it empty.
	CodeRevision string     `json:"codeRevision,omitempty"`
	Parts        []PartInfo `json:"parts"`
}

// CodeRevision identifies the running code: the main module's version and, for a binary
// built from a VCS checkout, the commit (with "+dirty" when the checkout had uncommitted
// changes), as the Go toolchain stamps them into the binary.
func CodeRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Path + "@" + bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	if rev != "" {
		v += " vcs " + rev + dirty
	}
	return v
}

// PartInfo is one part as the manifest lists it.
type PartInfo struct {
	Name      string `json:"name"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	// SHA256 is the lower-case hex SHA-256 of the part's bytes.
	SHA256 string `json:"sha256"`
	// Run and RunID are set for histories: the 1-based run index and the run's ID.
	Run   int    `json:"run,omitempty"`
	RunID string `json:"runId,omitempty"`
}

// RunHistory is one workflow run's history in the standard JSON form.
type RunHistory struct {
	RunID string
	JSON  []byte
}

// SnapshotDigest is the store's digest of a frozen application snapshot, recomputed from the
// application rows at export, for comparison with the digest the workflow recorded when the
// announcement window closed.
type SnapshotDigest struct {
	// Key is the snapshot's key ("snapshot-<n>", SnapshotRequest.Key).
	Key    string `json:"key"`
	Digest string `json:"digest"`
	// Applications is the number of applications in the snapshot.
	Applications int `json:"applications"`
}

// Signature is the content of manifest.sig.
type Signature struct {
	Algorithm      string `json:"algorithm"`
	KeyFingerprint string `json:"keyFingerprint"`
	// Value is the signature over the bytes of manifest.json (base64 in JSON).
	Value []byte `json:"value"`
}

// Part is one file of a bundle as read.
type Part struct {
	Name string
	Data []byte
}

// Bundle is the content of an export. To write one, fill SelectionID, WorkflowID,
// CreatedAt, Histories, Events and Snapshots; WriteBundle derives the manifest. ReadBundle
// fills everything, including what was actually in the archive (Manifest, ManifestJSON,
// Signature, Parts) so that the checks can say what differs.
type Bundle struct {
	SelectionID string
	WorkflowID  string
	CreatedAt   time.Time
	// CodeRevision is recorded in the manifest; WriteBundle fills in the running code's
	// (CodeRevision()) when it is empty.
	CodeRevision string
	Histories    []RunHistory
	Events       []AuditEvent
	Snapshots    []SnapshotDigest
	// Projection is the store's projection of the selection at export (store.ReadProjection),
	// to be filled as well; nil writes no projection part, as bundles of earlier versions
	// have none.
	Projection []ProjectionRow
	// Documents describe the selection's uploaded documents (with their digests); nil
	// writes no documents part, as bundles of earlier versions have none.
	Documents []DocumentDigest

	Manifest     Manifest
	ManifestJSON []byte
	// Signature is nil when the archive holds no readable manifest.sig.
	Signature *Signature
	// Parts are the archive's files other than the manifest and its signature, in archive
	// order.
	Parts []Part
	// problems are the parts ReadBundle could not decode; CheckParts reports them.
	problems []Finding
}

// KeyFingerprint identifies a public key: the lower-case hex SHA-256 of its PKIX
// (SubjectPublicKeyInfo) DER encoding, the same value as
// `openssl pkey -pubin -outform DER | sha256sum` gives for the published PEM key.
func KeyFingerprint(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		// Only a key of the wrong length fails; fingerprint its raw bytes, which then
		// matches no real key.
		der = pub
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// WriteBundle writes b as a signed bundle to w (through a BundleWriter, which streams
// bundles too large to hold). signer must hold an Ed25519 key (the server's key,
// auth.LocalKey.Signer()). The archive is deterministic: the same content, time and key
// give the same bytes.
func WriteBundle(w io.Writer, b Bundle, signer crypto.Signer) error {
	if len(b.Histories) == 0 {
		return errors.New("write bundle: no history")
	}
	bw, err := NewBundleWriter(w, BundleHeader{
		SelectionID: b.SelectionID, WorkflowID: b.WorkflowID, CreatedAt: b.CreatedAt, CodeRevision: b.CodeRevision,
	}, signer)
	if err != nil {
		return err
	}
	for _, h := range b.Histories {
		if err := bw.WriteHistory(h.RunID, h.JSON); err != nil {
			return err
		}
	}
	if err := bw.WriteEvents(b.Events); err != nil {
		return err
	}
	if err := bw.WriteSnapshots(b.Snapshots); err != nil {
		return err
	}
	if b.Projection != nil {
		if err := bw.WriteProjection(b.Projection); err != nil {
			return err
		}
	}
	if b.Documents != nil {
		if err := bw.WriteDocuments(b.Documents); err != nil {
			return err
		}
	}
	return bw.Close()
}

// canonicalManifest is the signed encoding of m: its canonical JSON.
func canonicalManifest(m Manifest) ([]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode the manifest: %w", err)
	}
	return CanonicalJSON(raw)
}

// safeName keeps a run ID usable in a file name inside the archive.
func safeName(s string) string {
	if s == "" {
		return "run"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// ReadBundle reads a bundle. It fails only when the archive is not a bundle at all (not a
// zip, no readable manifest, an unknown format); a part that is missing, altered or
// undecodable is left for CheckParts to report, and the signature for VerifySignature,
// so that a tampered bundle can still be examined and every problem named.
func ReadBundle(r io.ReaderAt, size int64) (*Bundle, error) {
	return ReadBundleWithin(r, size, ReadLimits{Part: maxPartSize, Total: maxBundleSize})
}

// ReadBundleWithin is ReadBundle with other limits than its 256 MiB per file and 1 GiB in
// all: an archive whose files declare more is refused before anything is decompressed.
func ReadBundleWithin(r io.ReaderAt, size int64, limits ReadLimits) (*Bundle, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	b := &Bundle{}
	seen := map[string]bool{}
	// The archive's directory declares every file's size, and archive/zip refuses to
	// return more than a file declares, so the sizes are checked before anything is
	// decompressed.
	var declared uint64
	for _, f := range zr.File {
		if seen[f.Name] {
			return nil, fmt.Errorf("read bundle: the archive holds %s twice", f.Name)
		}
		seen[f.Name] = true
		if f.UncompressedSize64 > limits.Part {
			return nil, fmt.Errorf("read bundle: %s: larger than %d bytes", f.Name, limits.Part)
		}
		if declared += f.UncompressedSize64; declared > limits.Total {
			return nil, fmt.Errorf("read bundle: the archive's files hold more than %d bytes", limits.Total)
		}
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		data, err := readZipFile(f, limits.Part)
		if err != nil {
			return nil, fmt.Errorf("read bundle: %s: %w", f.Name, err)
		}
		switch f.Name {
		case ManifestName:
			b.ManifestJSON = data
		case SignatureName:
			var s Signature
			if json.Unmarshal(data, &s) == nil {
				b.Signature = &s
			}
		default:
			b.Parts = append(b.Parts, Part{Name: f.Name, Data: data})
		}
	}
	if b.ManifestJSON == nil {
		return nil, fmt.Errorf("read bundle: no %s", ManifestName)
	}
	if err := json.Unmarshal(b.ManifestJSON, &b.Manifest); err != nil {
		return nil, fmt.Errorf("read bundle: %s: %w", ManifestName, err)
	}
	m := b.Manifest
	if m.Format != BundleFormat || m.Version != BundleVersion {
		return nil, fmt.Errorf("read bundle: format %q version %d, this build reads %q version %d", m.Format, m.Version, BundleFormat, BundleVersion)
	}
	b.SelectionID, b.WorkflowID, b.CreatedAt, b.CodeRevision = m.SelectionID, m.WorkflowID, m.CreatedAt, m.CodeRevision
	// The content comes from the parts the signed manifest lists, in its order; files it
	// does not list are never used.
	parts := b.partsByName()
	for _, p := range m.Parts {
		data, ok := parts[p.Name]
		if !ok {
			continue
		}
		switch p.MediaType {
		case MediaTypeHistory:
			b.Histories = append(b.Histories, RunHistory{RunID: p.RunID, JSON: data})
		case MediaTypeEvents:
			if err := json.Unmarshal(data, &b.Events); err != nil {
				b.problems = append(b.problems, Finding{Kind: KindPartInvalid, Part: p.Name,
					Message: fmt.Sprintf("the audit events do not decode: %v", err)})
			}
		case MediaTypeDigests:
			if err := json.Unmarshal(data, &b.Snapshots); err != nil {
				b.problems = append(b.problems, Finding{Kind: KindPartInvalid, Part: p.Name,
					Message: fmt.Sprintf("the snapshot digests do not decode: %v", err)})
			}
		case MediaTypeDocuments:
			b.Documents = []DocumentDigest{}
			if err := json.Unmarshal(data, &b.Documents); err != nil {
				b.problems = append(b.problems, Finding{Kind: KindPartInvalid, Part: p.Name,
					Message: fmt.Sprintf("the documents do not decode: %v", err)})
			}
		case MediaTypeProjection:
			b.Projection = []ProjectionRow{}
			if err := json.Unmarshal(data, &b.Projection); err != nil {
				b.problems = append(b.problems, Finding{Kind: KindPartInvalid, Part: p.Name,
					Message: fmt.Sprintf("the projection does not decode: %v", err)})
			}
		}
	}
	return b, nil
}

func readZipFile(f *zip.File, limit uint64) ([]byte, error) {
	if f.UncompressedSize64 > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// archive/zip fails a file that holds more than it declares; the limit stays as a
	// second guard.
	data, err := io.ReadAll(io.LimitReader(rc, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if uint64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// partsByName indexes the archive's parts by name (ReadBundle refuses duplicates). Looking
// each listed part up by scanning made reading and checking quadratic in the number of
// parts, which a crafted manifest and archive can make large.
func (b *Bundle) partsByName() map[string][]byte {
	out := make(map[string][]byte, len(b.Parts))
	for _, p := range b.Parts {
		if _, ok := out[p.Name]; !ok {
			out[p.Name] = p.Data
		}
	}
	return out
}

// HistoryJSON returns the runs' histories in order, as Replay takes them.
func (b *Bundle) HistoryJSON() [][]byte {
	out := make([][]byte, len(b.Histories))
	for i, h := range b.Histories {
		out[i] = h.JSON
	}
	return out
}

// Errors of VerifySignature.
var (
	ErrNoSignature    = errors.New("the bundle is not signed")
	ErrWrongKey       = errors.New("the bundle is signed with another key")
	ErrBadSignature   = errors.New("the signature does not match the manifest")
	ErrUnsupportedSig = errors.New("unsupported signature algorithm")
)

// VerifySignature checks that the manifest was signed by pub (the server's published key)
// and names that key. The manifest fixes every part's digest, so together with CheckParts
// this proves every byte of the bundle.
func (b *Bundle) VerifySignature(pub ed25519.PublicKey) error {
	if b.Signature == nil || len(b.Signature.Value) == 0 {
		return ErrNoSignature
	}
	if b.Signature.Algorithm != SignatureAlgorithm && b.Signature.Algorithm != legacySignatureAlgorithm {
		return fmt.Errorf("%w %q", ErrUnsupportedSig, b.Signature.Algorithm)
	}
	want := KeyFingerprint(pub)
	if b.Signature.KeyFingerprint != want {
		return fmt.Errorf("%w (fingerprint %s, expected %s)", ErrWrongKey, b.Signature.KeyFingerprint, want)
	}
	if !ed25519.Verify(pub, b.ManifestJSON, b.Signature.Value) {
		return ErrBadSignature
	}
	if b.Manifest.KeyFingerprint != want {
		return fmt.Errorf("%w: the manifest names key %s", ErrWrongKey, b.Manifest.KeyFingerprint)
	}
	return nil
}

// CheckParts compares the archive with the manifest: every listed part present with the
// listed size and SHA-256, no file the manifest does not list, and every part decodable.
// Each finding names the part.
func (b *Bundle) CheckParts() []Finding {
	names := make([]string, len(b.Parts))
	for i, p := range b.Parts {
		names[i] = p.Name
	}
	parts := b.partsByName()
	fs := compareParts(b.Manifest, names, func(name string, _ int64) (int64, string, bool, error) {
		data, ok := parts[name]
		if !ok {
			return 0, "", false, nil
		}
		sum := sha256.Sum256(data)
		return int64(len(data)), hex.EncodeToString(sum[:]), true, nil
	})
	return append(fs, b.problems...)
}

// compareParts compares the parts an archive holds (names, other than the manifest and its
// signature) with those the manifest lists. digest gives a part's size and SHA-256 (reading
// at most a little more than the listed size), or found false when the archive lacks it.
func compareParts(m Manifest, names []string, digest func(name string, listed int64) (size int64, sum string, found bool, err error)) []Finding {
	var fs []Finding
	listed := map[string]bool{}
	for _, p := range m.Parts {
		if listed[p.Name] {
			fs = append(fs, Finding{Kind: KindPartInvalid, Part: p.Name, Message: "the manifest lists the part twice"})
			continue
		}
		listed[p.Name] = true
		if !validPartName(p.Name) {
			fs = append(fs, Finding{Kind: KindPartInvalid, Part: p.Name, Message: "the manifest lists a part with an invalid name"})
			continue
		}
		n, got, ok, err := digest(p.Name, p.Size)
		switch {
		case err != nil:
			fs = append(fs, Finding{Kind: KindPartInvalid, Part: p.Name, Message: fmt.Sprintf("%s cannot be read: %v", p.Name, err)})
		case !ok:
			fs = append(fs, Finding{Kind: KindPartMissing, Part: p.Name, Message: fmt.Sprintf("the manifest lists %s, the archive does not hold it", p.Name)})
		case got != p.SHA256 || n != p.Size:
			fs = append(fs, Finding{Kind: KindPartDigestMismatch, Part: p.Name,
				Message: fmt.Sprintf("%s was altered: %d bytes with SHA-256 %s, the manifest lists %d bytes with SHA-256 %s",
					p.Name, n, short(got), p.Size, short(p.SHA256))})
		}
	}
	for _, name := range names {
		if !listed[name] {
			fs = append(fs, Finding{Kind: KindPartUnlisted, Part: name, Message: fmt.Sprintf("the archive holds %s, which the manifest does not list", name)})
		}
	}
	return fs
}

func validPartName(name string) bool {
	return name != "" && !strings.HasPrefix(name, "/") && path.Clean(name) == name &&
		!slices.Contains(strings.Split(name, "/"), "..") && name != ManifestName && name != SignatureName
}

// Report is the outcome of verifying a bundle.
type Report struct {
	SelectionID string       `json:"selectionId"`
	WorkflowID  string       `json:"workflowId"`
	Replay      ReplayReport `json:"replay"`
	// Findings holds every finding, the replay's included.
	Findings []Finding `json:"findings"`
}

// OK reports whether everything verified.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// VerifyBundle runs every check that needs only the bundle and the signer's public key: the
// signature, the parts, the replay of every run, the audit chain against its signed head,
// the cross-check of the audit events with the history, the snapshot digests, when the
// bundle carries the store's projection, every projected row against the rows the history
// determines (CheckProjection), and each document's digest against its upload's audit
// event (CheckDocuments).
//
// A bundle's histories carry their payloads as Temporal holds them: encrypted, in a
// deployment that encrypts them. WithPayloadCodec gives the keys to read them; without it
// such a bundle reports a KindPartInvalid finding saying the keys are needed.
func VerifyBundle(ctx context.Context, b *Bundle, pub ed25519.PublicKey, opts ...Option) (*Report, error) {
	rep := &Report{SelectionID: b.SelectionID, WorkflowID: b.WorkflowID}
	if err := b.VerifySignature(pub); err != nil {
		rep.Findings = append(rep.Findings, Finding{Kind: KindSignatureInvalid, Part: SignatureName, Message: err.Error()})
	}
	rep.Findings = append(rep.Findings, b.CheckParts()...)
	head := b.Manifest.AuditHead
	rep.Findings = append(rep.Findings, CheckChain(b.Events, &head)...)
	rep.Findings = append(rep.Findings, CheckDocuments(b.Events, b.Documents)...)
	if len(b.Histories) == 0 {
		rep.Findings = append(rep.Findings, Finding{Kind: KindPartMissing, Message: "the bundle holds no history"})
		return rep, nil
	}
	rr, err := Replay(ctx, b.HistoryJSON(), opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		rep.Findings = append(rep.Findings, Finding{Kind: KindPartInvalid, Message: err.Error()})
		return rep, nil
	}
	rep.Replay = rr
	rep.Findings = append(rep.Findings, rr.Findings...)
	if rr.Facts.WorkflowID != "" && b.WorkflowID != "" && rr.Facts.WorkflowID != b.WorkflowID {
		rep.Findings = append(rep.Findings, Finding{Kind: KindRunChainBroken,
			Message: fmt.Sprintf("the histories are of workflow %s, the manifest names %s", rr.Facts.WorkflowID, b.WorkflowID)})
	}
	rep.Findings = append(rep.Findings, CrossCheck(rr.Facts, b.Events)...)
	rep.Findings = append(rep.Findings, CheckSnapshots(rr.Facts, b.Snapshots)...)
	rep.Findings = append(rep.Findings, CheckState(rr.State, rr.Facts)...)
	rep.Findings = append(rep.Findings, b.CheckProjection(rr.Facts)...)
	return rep, nil
}

// CheckProjection compares the projection the bundle carries with the one the history
// determines. A bundle without a projection part (written before bundles had one) is not
// checked.
func (b *Bundle) CheckProjection(facts HistoryFacts) []Finding {
	if b.Projection == nil {
		return nil
	}
	return CheckProjection(facts, b.Projection)
}
