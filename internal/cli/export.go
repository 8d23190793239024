package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
)

func auditExport() *command {
	var out, keyFile string
	return &command{
		path: "audit export", args: "ID -O FILE|- [--key PEM_FILE]", nargs: 1,
		summary: "download a selection's signed history bundle to a file or stdout and check it (auditor)",
		help: `The bundle is streamed from the server into FILE (with -O -, to stdout once it has been
checked), whatever its size. It is the zip archive internal/audit writes: every part under
the name the signed manifest lists it (history/NNN-RUNID.json, audit/events.json,
audit/snapshots.json, audit/projection.json), then manifest.json (the signed bytes) and
manifest.sig (JSON: algorithm, keyFingerprint, value = the signature in base64).

After the download the command checks the whole file against the size and SHA-256 the
server sent at the end of the stream, the signature over the manifest, and every part's
size and SHA-256 against the manifest. The signature is checked with --key (the key from
'seleksictl audit key' saved as a file) or else with the key the server publishes. A
transfer that breaks off or does not match the server's digest leaves no file behind.

'seleksictl audit replay FILE --key key.pem --payload-keys KEYS' then checks it offline
through the workflow code: the histories carry their payloads as Temporal holds them,
encrypted, and KEYS is the payload key file the operators hand to the auditor. With common
tools:
  unzip bundle.zip manifest.json manifest.sig
  jq -r .value manifest.sig | base64 -d > manifest.sig.raw
  openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in manifest.json -sigfile manifest.sig.raw
The same bundle is GET /v1/selections/ID:exportHistory over REST.

Exit codes: 0 the bundle is written and checks out; 3 it is written but its signature or a
part does not check out (each finding is listed), or the transfer did not match the
server's digest (nothing written).`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "O", "", "`FILE` to write the bundle to, - for stdout (required)")
			fs.StringVar(&keyFile, "key", "", "`PEM_FILE` with the key the bundle must be signed with (default: the server's published key)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "O"); err != nil {
				return err
			}
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			var ring keyRing
			if keyFile != "" {
				if ring, err = loadPublicKey(keyFile); err != nil {
					return err
				}
			}
			dir := os.TempDir()
			if out != "-" {
				dir = filepath.Dir(out)
			}
			dl, err := downloadBundle(ctx, inv, name, dir, "."+filepath.Base(out)+".*")
			if err != nil {
				return err
			}
			defer dl.discard()
			keySource := "--key " + keyFile
			pub := ring.forFingerprint("")
			if len(ring) > 1 {
				// A key set or key directory: the bundle is signed with the key the server
				// says it signs with now, which must be one of those given.
				published, err := inv.publishedKey(ctx)
				if err != nil {
					return err
				}
				pub = ring.forFingerprint(audit.KeyFingerprint(published))
			}
			if pub == nil {
				if pub, err = inv.publishedKey(ctx); err != nil {
					return err
				}
				keySource = "the key the server publishes"
			}
			m, findings, err := audit.CheckArchive(dl.file, dl.size, pub)
			if err != nil {
				return &codedError{code: ExitVerification, err: fmt.Errorf("the server's answer is not a bundle: %w", err)}
			}
			w := inv.app.Stdout
			if out == "-" {
				// Stdout carries the bundle; the account goes to stderr.
				w = inv.app.Stderr
				if _, err := dl.file.Seek(0, io.SeekStart); err != nil {
					return fmt.Errorf("write bundle: %w", err)
				}
				if _, err := io.Copy(inv.app.Stdout, dl.file); err != nil {
					return fmt.Errorf("write bundle: %w", err)
				}
			} else if err := dl.install(out); err != nil {
				return err
			}
			res := exportOutput{
				File: out, Bytes: dl.size, SHA256: dl.sha256,
				SelectionID: m.SelectionID, WorkflowID: m.WorkflowID, CreatedAt: m.CreatedAt,
				KeyID: dl.header.GetKeyId(), SignatureAlgorithm: dl.header.GetSignatureAlgorithm(),
				Signature: signatureCheck{KeyFingerprint: m.KeyFingerprint, Key: audit.KeyFingerprint(pub),
					Verified: !audit.HasKind(findings, audit.KindSignatureInvalid), Note: "checked with " + keySource},
				Parts: m.Parts, Findings: findings, OK: len(findings) == 0,
			}
			if res.Findings == nil {
				res.Findings = []audit.Finding{}
			}
			if err := printExport(inv, w, res); err != nil {
				return err
			}
			if len(findings) > 0 {
				return &codedError{code: ExitVerification, err: fmt.Errorf("%s: %d finding(s) in the bundle of %s", out, len(findings), name)}
			}
			return nil
		},
	}
}

// exportOutput is what `audit export` reports, and its JSON form.
type exportOutput struct {
	File               string           `json:"file"`
	Bytes              int64            `json:"bytes"`
	SHA256             string           `json:"sha256"`
	SelectionID        string           `json:"selectionId"`
	WorkflowID         string           `json:"workflowId"`
	CreatedAt          time.Time        `json:"createdAt"`
	KeyID              string           `json:"keyId"`
	SignatureAlgorithm string           `json:"signatureAlgorithm"`
	Signature          signatureCheck   `json:"signature"`
	Parts              []audit.PartInfo `json:"parts"`
	Findings           []audit.Finding  `json:"findings"`
	OK                 bool             `json:"ok"`
}

func printExport(inv *invocation, w io.Writer, r exportOutput) error {
	if inv.g.output == "json" {
		return writeJSON(w, r)
	}
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	verdict := "ok"
	if !r.OK {
		verdict = fmt.Sprintf("NOT OK: %d finding(s)", len(r.Findings))
	}
	file := r.File
	if file == "-" {
		file = "stdout"
	}
	t.row("Wrote", fmt.Sprintf("%s (%s bytes)", file, strconv.FormatInt(r.Bytes, 10)))
	t.row("SHA-256", r.SHA256)
	t.row("Selection", r.SelectionID)
	t.field("Created", r.CreatedAt.UTC().Format(time.RFC3339))
	t.row("Key", r.KeyID+" ("+r.SignatureAlgorithm+")")
	sig := "verified, " + r.Signature.Note
	if !r.Signature.Verified {
		sig = "NOT verified, " + r.Signature.Note
	}
	t.row("Signature", sig)
	t.row("Result", verdict)
	t.blank()
	t.row("PART", "BYTES", "SHA-256")
	for _, p := range r.Parts {
		t.row(p.Name, strconv.FormatInt(p.Size, 10), p.SHA256)
	}
	if len(r.Findings) > 0 {
		t.blank()
		t.row("KIND", "PART", "MESSAGE")
		for _, f := range r.Findings {
			t.row(f.Kind, f.Part, f.Message)
		}
	}
	return t.tw.Flush()
}

// publishedKey fetches and parses the key the server says it signs bundles with.
func (inv *invocation) publishedKey(ctx context.Context) (ed25519.PublicKey, error) {
	resp, err := inv.audit.GetSigningKey(ctx, &seleksiv1.GetSigningKeyRequest{})
	if err != nil {
		return nil, err
	}
	pub, err := parsePublicKey([]byte(resp.GetPublicKeyPem()))
	if err != nil {
		return nil, fmt.Errorf("the server's signing key: %w", err)
	}
	return pub, nil
}

// download is a bundle streamed into a temporary file, checked against the stream's
// trailer.
type download struct {
	file   *os.File
	header *seleksiv1.BundleHeader
	size   int64
	sha256 string
}

// downloadBundle streams the selection's bundle into a new temporary file in dir (named
// after pattern, as os.CreateTemp takes it), hashing it on the way, and checks it against
// the trailer: the same size and SHA-256. A stream that ends without its trailer, or that
// does not match it, leaves nothing behind. The caller discards the download, or installs it.
func downloadBundle(ctx context.Context, inv *invocation, name, dir, pattern string) (_ *download, err error) {
	stream, err := inv.audit.ExportHistory(ctx, &seleksiv1.ExportHistoryRequest{Name: name})
	if err != nil {
		return nil, err
	}
	first, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	if first.GetHeader() == nil {
		return nil, errors.New("the server's export did not start with its header")
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	dl := &download{file: f, header: first.GetHeader()}
	defer func() {
		if err != nil {
			dl.discard()
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the export of %s ended after %d bytes without its trailer: the bundle is incomplete", name, dl.size)
		}
		if err != nil {
			return nil, err
		}
		switch c := msg.GetContent().(type) {
		case *seleksiv1.ExportHistoryResponse_Chunk:
			n, err := w.Write(c.Chunk)
			dl.size += int64(n)
			if err != nil {
				return nil, fmt.Errorf("write bundle: %w", err)
			}
		case *seleksiv1.ExportHistoryResponse_Trailer:
			dl.sha256 = hex.EncodeToString(h.Sum(nil))
			if got, want := dl.size, c.Trailer.GetSizeBytes(); got != want || !strings.EqualFold(dl.sha256, c.Trailer.GetSha256()) {
				return nil, &codedError{code: ExitVerification, err: fmt.Errorf(
					"the bundle of %s arrived as %d bytes with SHA-256 %s, the server sent %d bytes with SHA-256 %s",
					name, got, dl.sha256, want, c.Trailer.GetSha256())}
			}
			if err := f.Sync(); err != nil {
				return nil, fmt.Errorf("write bundle: %w", err)
			}
			return dl, nil
		default:
			return nil, fmt.Errorf("unexpected %T in the export of %s", c, name)
		}
	}
}

// install moves the download to path, so a failed export never leaves a truncated file
// that looks like a bundle.
func (d *download) install(path string) error {
	if err := d.file.Close(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := os.Rename(d.file.Name(), path); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	d.file = nil
	return nil
}

// discard removes the temporary file unless it was installed.
func (d *download) discard() {
	if d.file != nil {
		_ = d.file.Close()
		_ = os.Remove(d.file.Name())
		d.file = nil
	}
}
