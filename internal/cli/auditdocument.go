package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/bkpsdm/seleksi/internal/audit"
)

func auditVerifyDocument() *command {
	var keyFile, payloadKeys, output string
	return &command{
		path: "audit verify-document", args: "BUNDLE FILE [--key PEM_FILE] [--payload-keys PATH] [-o table|json]", nargs: 2, local: true,
		summary: "check offline that FILE is a document a bundle describes; exit 3 when it is not, or the bundle does not verify",
		help: `BUNDLE is an audit bundle ('seleksictl audit export'); FILE is a document as someone
holds it (a candidate's certificate, a download). Nothing is sent anywhere.

The bundle is verified as 'seleksictl audit replay' verifies it (the signature with --key,
every part against the signed manifest, the replay, the audit chain, and each document's
digest against its upload's audit event), then FILE's SHA-256 is computed and looked up
among the bundle's documents: a match names the document, its kind and the application
it belongs to. The bundle carries each document's digest, never its content.

Exit codes: 0 FILE matches a document and the bundle verifies with --key; 3 FILE matches no
document, or the bundle has findings, or its signature was not checked (no --key); 2 a
file (or the key) cannot be read.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&keyFile, "key", "", "`PEM_FILE` with the public key the bundle must be signed with")
			fs.StringVar(&payloadKeys, "payload-keys", "", payloadKeysUsage)
			fs.StringVar(&output, "o", "", "output `FORMAT`: table or json (default table)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := localOutput(inv, output); err != nil {
				return err
			}
			bundleFile, file := args[0], args[1]
			data, err := os.ReadFile(bundleFile)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if !isZip(data) {
				return usageErrorf("%s is not an audit bundle (a zip archive)", bundleFile)
			}
			sum, size, err := hashFile(file)
			if err != nil {
				return usageErrorf("%v", err)
			}
			var ring keyRing
			if keyFile != "" {
				if ring, err = loadPublicKey(keyFile); err != nil {
					return err
				}
			}
			opts, err := payloadKeyOptions(inv, payloadKeys)
			if err != nil {
				return err
			}
			rep, err := replayBundle(ctx, bundleFile, data, ring, opts...)
			if err != nil {
				return err
			}
			b, err := audit.ReadBundle(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				return usageErrorf("%s: %v", bundleFile, err)
			}
			out := &documentCheck{File: file, SHA256: sum, SizeBytes: size, Bundle: bundleFile, SelectionID: b.SelectionID,
				BundleOK: rep.OK, Signature: rep.Signature, Findings: rep.Findings, HasDocuments: b.Documents != nil,
				Matches: nonNilDocs(audit.DocumentsWithDigest(b.Documents, sum))}
			if err := printDocumentCheck(inv, out); err != nil {
				return err
			}
			switch {
			case len(out.Matches) == 0:
				return &codedError{code: ExitVerification, err: fmt.Errorf("%s matches no document of %s", file, bundleFile)}
			case !out.BundleOK:
				return &codedError{code: ExitVerification, err: fmt.Errorf("%s matches a document, but the bundle does not verify: %s", file, replayVerdict(rep))}
			}
			return nil
		},
	}
}

// documentCheck is what `audit verify-document` reports, and its JSON form.
type documentCheck struct {
	File        string `json:"file"`
	SHA256      string `json:"sha256"`
	SizeBytes   int64  `json:"sizeBytes"`
	Bundle      string `json:"bundle"`
	SelectionID string `json:"selectionId"`
	// Matches are the bundle's documents with FILE's digest (the same file may have been
	// uploaded more than once).
	Matches []audit.DocumentDigest `json:"matches"`
	// HasDocuments is false for a bundle written before bundles described documents.
	HasDocuments bool            `json:"hasDocuments"`
	BundleOK     bool            `json:"bundleOk"`
	Signature    *signatureCheck `json:"signature,omitempty"`
	Findings     []audit.Finding `json:"findings"`
}

func nonNilDocs(d []audit.DocumentDigest) []audit.DocumentDigest {
	if d == nil {
		return []audit.DocumentDigest{}
	}
	return d
}

// hashFile hashes a named file as it streams, so that a large file is never held.
func hashFile(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func printDocumentCheck(inv *invocation, out *documentCheck) error {
	w := inv.app.Stdout
	if inv.g.output == "json" {
		return writeJSON(w, out)
	}
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	verdict := "matches no document of the bundle"
	switch {
	case !out.HasDocuments:
		verdict = "the bundle describes no documents (written before bundles carried them)"
	case len(out.Matches) == 1:
		verdict = "matches document " + out.Matches[0].DocumentID
	case len(out.Matches) > 1:
		verdict = "matches " + strconv.Itoa(len(out.Matches)) + " documents"
	}
	bundle := "verifies"
	if !out.BundleOK {
		bundle = "does NOT verify"
		if out.Signature != nil && !out.Signature.Verified && out.Signature.Key == "" && len(out.Findings) == 0 {
			bundle = "signature NOT checked (no --key); " + checkKeyHint
		}
	}
	t.row("File", out.File)
	t.row("SHA-256", out.SHA256)
	t.row("Size", strconv.FormatInt(out.SizeBytes, 10)+" bytes")
	t.row("Result", verdict)
	t.row("Bundle", out.Bundle+": "+bundle)
	t.field("Selection", out.SelectionID)
	if len(out.Matches) > 0 {
		t.blank()
		t.row("DOCUMENT", "APPLICATION", "KIND", "MEDIA TYPE", "SIZE", "STATE")
		for _, d := range out.Matches {
			t.row(d.DocumentID, d.ApplicationID, d.Kind, d.MediaType, strconv.FormatInt(d.SizeBytes, 10), d.State)
		}
	}
	if len(out.Findings) > 0 {
		t.blank()
		t.row("FINDING", "MESSAGE")
		for _, f := range out.Findings {
			t.row(f.Kind, f.Message)
		}
	}
	return t.tw.Flush()
}
