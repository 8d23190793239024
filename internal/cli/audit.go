package cli

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
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
		help: `The default format, zip, unpacks into files an auditor can check offline with common
tools: manifest.json (the signed bytes), manifest.sig (the raw signature), signature.json
(algorithm, key ID, signature in base64) and parts/NAME for every part the manifest lists.
For an Ed25519 bundle, with the key from 'seleksictl audit key' saved as key.pem:
  openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in manifest.json -sigfile manifest.sig
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

func writeZip(f *os.File, b *seleksiv1.ExportBundle) error {
	zw := zip.NewWriter(f)
	sig, err := json.MarshalIndent(map[string]string{
		"algorithm": b.GetSignatureAlgorithm(),
		"key_id":    b.GetKeyId(),
		"signature": base64.StdEncoding.EncodeToString(b.GetSignature()),
	}, "", "  ")
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"manifest.json", b.GetManifest()},
		{"manifest.sig", b.GetSignature()},
		{"signature.json", append(sig, '\n')},
	}
	for _, p := range b.GetParts() {
		// Part names come from the server; a name that climbs out of parts/ would make the
		// archive write elsewhere when unpacked.
		clean := path.Clean("/" + p.GetName())[1:]
		if clean == "" || clean != p.GetName() {
			return fmt.Errorf("bundle part name %q is not a plain relative path", p.GetName())
		}
		files = append(files, struct {
			name string
			data []byte
		}{"parts/" + clean, p.GetContent()})
	}
	for _, fl := range files {
		w, err := zw.Create(fl.name)
		if err != nil {
			return err
		}
		if _, err := w.Write(fl.data); err != nil {
			return err
		}
	}
	return zw.Close()
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
