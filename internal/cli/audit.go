package cli

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
)

func auditList() *command {
	var p pageFlags
	return &command{
		path: "audit list", args: "ID [--filter F] [--page-size N] [--page-token T]", nargs: 1,
		summary: "list a selection's audit events in sequence order (auditor, admin)",
		flags:   func(fs *flag.FlagSet) { p.register(fs, false) },
		run: func(ctx context.Context, inv *invocation, args []string) error {
			parent, err := selectionName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.audit.ListAuditEvents(ctx, &seleksiv1.ListAuditEventsRequest{
				Parent: parent, PageSize: int32(p.pageSize), PageToken: p.pageToken, Filter: p.filter,
			})
			if err != nil {
				return err
			}
			err = inv.print(resp, func(t *table) {
				t.row("SEQ", "TIME", "ACTOR", "ROLE", "ACTION", "TARGET", "REASON")
				for _, e := range resp.GetAuditEvents() {
					t.row(strconv.FormatUint(e.GetSequence(), 10), fmtTime(e.GetWorkflowTime()), e.GetActorSubject(),
						slug(e.GetRole()), e.GetAction(), e.GetTarget(), e.GetReason())
				}
			})
			inv.nextPage(resp.GetNextPageToken())
			return err
		},
	}
}

// Export file formats.
const (
	formatZip   = "zip"
	formatJSON  = "json"
	formatBinpb = "binpb"
)

func auditExport() *command {
	var out, format string
	return &command{
		path: "audit export", args: "ID -O FILE [--format zip|json|binpb]", nargs: 1,
		summary: "export a selection's signed history bundle to a file (auditor)",
		help: `The default format, zip, is the audit bundle itself, laid out exactly as the server
writes it (see internal/audit): manifest.json (the signed bytes, unchanged), manifest.sig
(JSON: algorithm, keyFingerprint, value = the signature in base64) and every part at the
name the manifest lists it under (history/NNN-RUNID.json, audit/events.json,
audit/snapshots.json). 'seleksictl audit replay FILE --key key.pem' checks it offline, with
the key from 'seleksictl audit key' saved as key.pem. With common tools:
  unzip bundle.zip manifest.json manifest.sig
  jq -r .value manifest.sig | base64 -d > manifest.sig.raw
  openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in manifest.json -sigfile manifest.sig.raw
json writes the ExportHistoryResponse as JSON; binpb writes the ExportBundle in protobuf
binary form. The format follows FILE's extension (.json, .binpb or .pb) unless --format says.
Parts whose content does not match their SHA-256 are written all the same and reported with
exit code 3.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "O", "", "`FILE` to write the bundle to (required)")
			fs.StringVar(&format, "format", "", "zip, json or binpb; default from FILE's extension, else zip")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "O"); err != nil {
				return err
			}
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			if format == "" {
				switch strings.ToLower(filepath.Ext(out)) {
				case ".json":
					format = formatJSON
				case ".binpb", ".pb":
					format = formatBinpb
				default:
					format = formatZip
				}
			}
			if format != formatZip && format != formatJSON && format != formatBinpb {
				return usageErrorf("--format must be zip, json or binpb, not %q", format)
			}
			resp, err := inv.audit.ExportHistory(ctx, &seleksiv1.ExportHistoryRequest{Name: name})
			if err != nil {
				return err
			}
			b := resp.GetBundle()
			if err := writeBundle(out, format, resp); err != nil {
				return err
			}
			var bad []string
			for _, p := range b.GetParts() {
				sum := sha256.Sum256(p.GetContent())
				if hex.EncodeToString(sum[:]) != strings.ToLower(p.GetSha256()) {
					bad = append(bad, p.GetName())
				}
			}
			// The JSON answer describes the bundle without repeating its content, which is in
			// the file: the parts keep their names and digests.
			summary := proto.Clone(resp).(*seleksiv1.ExportHistoryResponse)
			for _, p := range summary.GetBundle().GetParts() {
				p.Content = nil
			}
			if err := inv.print(summary, func(t *table) {
				t.row("Wrote", out+" ("+format+")")
				t.row("Key", b.GetKeyId())
				t.row("Algorithm", b.GetSignatureAlgorithm())
				t.blank()
				t.row("PART", "BYTES", "SHA-256")
				for _, p := range b.GetParts() {
					t.row(p.GetName(), strconv.Itoa(len(p.GetContent())), p.GetSha256())
				}
			}); err != nil {
				return err
			}
			if len(bad) > 0 {
				return &codedError{code: ExitVerification,
					err: fmt.Errorf("parts whose content does not match their SHA-256: %s", strings.Join(bad, ", "))}
			}
			return nil
		},
	}
}

// writeBundle writes the bundle next to its destination and renames it into place, so a
// failed export never leaves a truncated file that looks like a bundle.
func writeBundle(out, format string, resp *seleksiv1.ExportHistoryResponse) (err error) {
	var data []byte
	switch format {
	case formatJSON:
		data, err = protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(resp)
	case formatBinpb:
		data, err = proto.Marshal(resp.GetBundle())
	}
	if err != nil {
		return fmt.Errorf("encode bundle: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if format == formatZip {
		err = writeZip(f, resp.GetBundle())
	} else {
		_, err = f.Write(data)
	}
	if err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err = os.Rename(f.Name(), out); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}

// writeZip writes b as the archive audit.WriteBundle produces, so that audit.ReadBundle (and
// so `seleksictl audit replay`) reads an exported file exactly as the server built it: the
// manifest's bytes unchanged (they are what is signed), manifest.sig as audit.Signature,
// then every part under its manifest name, each deflated and stamped with the manifest's
// creation time. The same content therefore gives the same bytes as the server's archive.
func writeZip(w io.Writer, b *seleksiv1.ExportBundle) error {
	// The time stamp is the manifest's createdAt; a manifest that does not decode is still
	// written as it came, for the auditor to examine, with no time stamp.
	var m audit.Manifest
	_ = json.Unmarshal(b.GetManifest(), &m)
	sig, err := json.MarshalIndent(audit.Signature{
		Algorithm: sigAlgorithm(b.GetSignatureAlgorithm()), KeyFingerprint: b.GetKeyId(), Value: b.GetSignature(),
	}, "", "  ")
	if err != nil {
		return err
	}
	files := []audit.Part{
		{Name: audit.ManifestName, Data: b.GetManifest()},
		{Name: audit.SignatureName, Data: append(sig, '\n')},
	}
	for _, p := range b.GetParts() {
		// Part names come from the server; a name that climbs out of the archive would make
		// it write elsewhere when unpacked, and one that shadows the manifest would replace it.
		name := p.GetName()
		clean := path.Clean("/" + name)[1:]
		if clean == "" || clean != name || name == audit.ManifestName || name == audit.SignatureName {
			return fmt.Errorf("bundle part name %q is not a plain relative path", name)
		}
		files = append(files, audit.Part{Name: name, Data: p.GetContent()})
	}
	zw := zip.NewWriter(w)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: m.CreatedAt})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// sigAlgorithm maps the API's algorithm name to the one manifest.sig records
// (audit.SignatureAlgorithm, "EdDSA"), which audit.Bundle.VerifySignature compares exactly;
// servers before the labels were unified answered "Ed25519".
func sigAlgorithm(api string) string {
	if strings.EqualFold(api, audit.SignatureAlgorithm) {
		return audit.SignatureAlgorithm
	}
	return strings.ToLower(api)
}

func auditVerify() *command {
	var replay bool
	return &command{
		path: "audit verify", args: "ID [--replay]", nargs: 1,
		summary: "verify a selection's audit trail against its workflow history (auditor); exit 3 on findings",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&replay, "replay", false, "also replay the history through the current workflow code (slower)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.audit.VerifySelection(ctx, &seleksiv1.VerifySelectionRequest{Name: name, Replay: replay})
			if err != nil {
				return err
			}
			r := resp.GetReport()
			if err := inv.print(resp, func(t *table) {
				verdict := "ok"
				if !r.GetOk() {
					verdict = fmt.Sprintf("NOT OK: %d finding(s)", len(r.GetFindings()))
				}
				t.row("Selection", name)
				t.row("Result", verdict)
				t.row("Events checked", strconv.FormatUint(r.GetEventsChecked(), 10))
				t.row("Replayed", strconv.FormatBool(r.GetReplayed()))
				t.field("Verified", fmtTime(r.GetVerifyTime()))
				if len(r.GetFindings()) > 0 {
					t.blank()
					t.row("KIND", "EVENTS", "HISTORY EVENTS", "MESSAGE")
					for _, f := range r.GetFindings() {
						t.row(slug(f.GetKind()), joinInts(f.GetEventSequences()), joinInts(f.GetHistoryEventIds()), f.GetMessage())
					}
				}
			}); err != nil {
				return err
			}
			if !r.GetOk() {
				return &codedError{code: ExitVerification,
					err: fmt.Errorf("verification of %s found %d problem(s)", name, len(r.GetFindings()))}
			}
			return nil
		},
	}
}

func joinInts[T uint64 | int64](v []T) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

func auditKey() *command {
	return &command{
		path: "audit key", args: "", nargs: 0,
		summary: "show the public key export bundles are signed with (public)",
		run: func(ctx context.Context, inv *invocation, _ []string) error {
			resp, err := inv.audit.GetSigningKey(ctx, &seleksiv1.GetSigningKeyRequest{})
			if err != nil {
				return err
			}
			if inv.g.output == "json" {
				return inv.print(resp, nil)
			}
			// The PEM block is printed as is, so the output can be saved as the key file.
			w := inv.app.Stdout
			_, err = fmt.Fprintf(w, "Key ID     %s\nAlgorithm  %s\n\n%s", resp.GetKeyId(), resp.GetAlgorithm(), resp.GetPublicKeyPem())
			if err == nil && !strings.HasSuffix(resp.GetPublicKeyPem(), "\n") {
				_, err = fmt.Fprintln(w)
			}
			return err
		},
	}
}
