package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	historypb "go.temporal.io/api/history/v1"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/keys"
	"github.com/bkpsdm/seleksi/workflows"
)

// The offline audit commands. They link internal/audit, and with it the workflow code and
// the Temporal SDK's replayer (not the Temporal server), because replay must run the very
// code the workers run: an auditor holding only a bundle and this binary can then prove
// what happened without trusting, or reaching, the operators' servers.

func auditReplay() *command {
	var keyFile, payloadKeys, output string
	return &command{
		path: "audit replay", args: "FILE [--key PEM_FILE] [--payload-keys PATH] [-o table|json]", nargs: 1, local: true,
		summary: "replay a bundle or a JSON history offline through the current workflow code; exit 3 on findings",
		help: `FILE is an audit bundle (the zip 'seleksictl audit export' writes) or one run's history in
Temporal's standard JSON form (what 'temporal workflow show --output json' and the Web UI's
download produce). Nothing is sent anywhere: no server and no token are needed.

For a bundle: the signature over the manifest, every part's size and SHA-256, the replay of
every run through the workflow code built into this binary (non-determinism is reported
with the run and the history event), the audit hash chain against the signed head, the
cross-check of the audit events with the history, and the snapshot digests. The signature
is verified with --key, the public key from 'seleksictl audit key' saved as a file (the
whole output of that command, or just its PEM block). Without --key the signature cannot
be verified: the report says so and shows the key fingerprint the bundle names, to compare
with the published one; the digests still prove the parts match the manifest.

For a history: the replay of that run, and the state it rebuilds.

Histories carry their payloads as Temporal holds them: encrypted (AES-256-GCM) where the
deployment encrypts them. --payload-keys gives the keys to decrypt them (the operators hand
them to auditors with the bundle, by a separate channel); without them such a history
cannot be replayed, and the report says which key IDs are needed.

Exit codes: 0 everything holds, 3 findings, 2 the file (or the key) cannot be read.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&keyFile, "key", "", "`PEM_FILE` with the public key the bundle must be signed with")
			fs.StringVar(&payloadKeys, "payload-keys", "", payloadKeysUsage)
			// A local command takes no global flags, so -o is its own here; given before the
			// group (seleksictl -o json audit replay ...) it reaches inv.g as usual.
			fs.StringVar(&output, "o", "", "output `FORMAT`: table or json (default table)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := localOutput(inv, output); err != nil {
				return err
			}
			file := args[0]
			data, err := os.ReadFile(file)
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
			var out *replayOutput
			if isZip(data) {
				out, err = replayBundle(ctx, file, data, ring, opts...)
			} else {
				if keyFile != "" {
					return usageErrorf("--key applies to bundles; %s is not a zip archive", file)
				}
				out, err = replayHistory(ctx, file, data, opts...)
			}
			if err != nil {
				return err
			}
			if err := printReplay(inv, out); err != nil {
				return err
			}
			if !out.OK {
				return &codedError{code: ExitVerification, err: fmt.Errorf("%s: %s", file, replayVerdict(out))}
			}
			return nil
		},
	}
}

// localOutput applies a local command's own -o over the global one and checks it.
func localOutput(inv *invocation, output string) error {
	if output != "" {
		inv.g.output = output
	}
	if inv.g.output != "table" && inv.g.output != "json" {
		return usageErrorf("-o must be table or json, not %q", inv.g.output)
	}
	return nil
}

// isZip tells a bundle from a JSON history by the zip local-file signature.
func isZip(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }

// keyRing is the public keys --key names: one key, or the bundle keys of a key set or a
// key directory, among which a bundle's own is chosen by the fingerprint it records (so a
// bundle signed before a key rotation verifies with the keys published after it).
type keyRing []ed25519.PublicKey

// forFingerprint is the ring's key with the fingerprint, or else its first key (against
// which the signature check then reports the wrong key); nil for an empty ring.
func (r keyRing) forFingerprint(fp string) ed25519.PublicKey {
	for _, k := range r {
		if audit.KeyFingerprint(k) == fp {
			return k
		}
	}
	if len(r) == 0 {
		return nil
	}
	return r[0]
}

// loadPublicKey reads the keys --key names: a file with one Ed25519 public key (see
// parsePublicKey), a JSON Web Key Set (seleksid's /.well-known/jwks.json, of which the
// bundle keys are taken), or a key directory (seleksid's -keys-dir, of which the
// bundle-signing keys are taken).
func loadPublicKey(file string) (keyRing, error) {
	if fi, err := os.Stat(file); err == nil && fi.IsDir() {
		d, err := keys.LoadDir(file)
		if err != nil {
			return nil, usageErrorf("--key: %v", err)
		}
		if err := d.Require(keys.PurposeBundle); err != nil {
			return nil, usageErrorf("--key: %v", err)
		}
		ring := keyRing{d.Bundle.Active.Public}
		for _, k := range d.Bundle.Keys {
			if k.ID != d.Bundle.Active.ID {
				ring = append(ring, k.Public)
			}
		}
		return ring, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, usageErrorf("--key: %v", err)
	}
	if bytes.Contains(data, []byte(`"keys"`)) && !bytes.Contains(data, []byte("-----BEGIN")) {
		set, err := keys.ParseJWKS(data)
		if err != nil {
			return nil, usageErrorf("--key %s: %v", file, err)
		}
		var ring keyRing
		for _, k := range set {
			if k.Purpose == keys.PurposeBundle || k.Purpose == "" {
				ring = append(ring, k.Key)
			}
		}
		if len(ring) == 0 {
			return nil, usageErrorf("--key %s: the key set holds no bundle-signing key", file)
		}
		return ring, nil
	}
	pub, err := parsePublicKey(data)
	if err != nil {
		return nil, usageErrorf("--key %s: %v", file, err)
	}
	return keyRing{pub}, nil
}

// parsePublicKey reads an Ed25519 public key: a PEM "PUBLIC KEY" block anywhere in data (so
// the whole table output of `seleksictl audit key` works), or the JSON that
// `seleksictl audit key -o json` prints.
func parsePublicKey(data []byte) (ed25519.PublicKey, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		var js struct {
			PublicKeyPem string `json:"publicKeyPem"`
		}
		if json.Unmarshal(data, &js) == nil && js.PublicKeyPem != "" {
			data = []byte(js.PublicKeyPem)
		}
	}
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, errors.New("no PEM PUBLIC KEY block")
		}
		if blk.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, err
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("a %T, bundles are signed with Ed25519", k)
		}
		return pub, nil
	}
}

// replayOutput is what `audit replay` reports, and its JSON form.
type replayOutput struct {
	File string `json:"file"`
	// Kind is "bundle" or "history".
	Kind        string `json:"kind"`
	SelectionID string `json:"selectionId,omitempty"`
	WorkflowID  string `json:"workflowId,omitempty"`
	// Signature is set for bundles.
	Signature *signatureCheck `json:"signature,omitempty"`
	// Parts are the parts the manifest lists.
	Parts       []audit.PartInfo  `json:"parts,omitempty"`
	AuditEvents int               `json:"auditEvents"`
	Runs        []audit.RunReport `json:"runs"`
	// State is the state the replay rebuilt (nil when the last run did not replay), and
	// Result the selection's result when the last run completed.
	State    *workflows.SelectionState  `json:"state,omitempty"`
	Result   *workflows.SelectionResult `json:"result,omitempty"`
	Findings []audit.Finding            `json:"findings"`
	OK       bool                       `json:"ok"`
}

// signatureCheck says what was, and was not, established about the bundle's signature.
type signatureCheck struct {
	// KeyFingerprint is the key the manifest names.
	KeyFingerprint string `json:"keyFingerprint"`
	// Verified is true only when the signature was checked with --key and holds.
	Verified bool `json:"verified"`
	// Key is the fingerprint of the --key given, empty without one.
	Key  string `json:"key,omitempty"`
	Note string `json:"note"`
}

// replayBundle verifies a bundle with audit.VerifyBundle. Without a key the signature cannot
// be verified (Ed25519 needs the public key, and the bundle carries only its fingerprint),
// so the signature findings VerifyBundle makes against a stand-in key are dropped and
// replaced by what can be checked without one: that the bundle is signed, and that
// manifest.sig names the same key as the signed manifest.
func replayBundle(ctx context.Context, file string, data []byte, ring keyRing, opts ...audit.Option) (*replayOutput, error) {
	b, err := audit.ReadBundle(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, usageErrorf("%s: %v", file, err)
	}
	pub := ring.forFingerprint(b.Manifest.KeyFingerprint)
	key := pub
	if key == nil {
		// Any valid key will do: the findings it causes are dropped below.
		key = make(ed25519.PublicKey, ed25519.PublicKeySize)
	}
	rep, err := audit.VerifyBundle(ctx, b, key, opts...)
	if err != nil {
		return nil, err
	}
	sc := &signatureCheck{KeyFingerprint: b.Manifest.KeyFingerprint}
	findings := rep.Findings
	if pub != nil {
		sc.Key = audit.KeyFingerprint(pub)
		sc.Verified = !audit.HasKind(findings, audit.KindSignatureInvalid)
		if sc.Verified {
			sc.Note = "verified with --key"
		} else {
			sc.Note = "does NOT verify with --key"
		}
	} else {
		findings = dropKind(findings, audit.KindSignatureInvalid)
		var extra []audit.Finding
		switch {
		case b.Signature == nil || len(b.Signature.Value) == 0:
			extra = append(extra, audit.Finding{Kind: audit.KindSignatureInvalid, Part: audit.SignatureName, Message: audit.ErrNoSignature.Error()})
		case b.Signature.KeyFingerprint != b.Manifest.KeyFingerprint:
			extra = append(extra, audit.Finding{Kind: audit.KindSignatureInvalid, Part: audit.SignatureName,
				Message: fmt.Sprintf("manifest.sig names key %s, the manifest names %s", b.Signature.KeyFingerprint, b.Manifest.KeyFingerprint)})
		}
		findings = append(extra, findings...)
		sc.Note = "NOT verified: no --key given; checked only that the bundle is signed and names this key fingerprint (give the published key with --key to verify)"
	}
	return &replayOutput{
		File: file, Kind: "bundle", SelectionID: b.SelectionID, WorkflowID: b.WorkflowID,
		Signature: sc, Parts: b.Manifest.Parts, AuditEvents: len(b.Events),
		Runs: rep.Replay.Runs, State: rep.Replay.State, Result: rep.Replay.Result,
		// Exit 0 means everything holds, and a signature nobody checked does not hold: a
		// script running "replay && accept" must not accept a re-signed forgery.
		Findings: nonNil(findings), OK: len(findings) == 0 && sc.Verified,
	}, nil
}

func dropKind(fs []audit.Finding, kind string) []audit.Finding {
	var out []audit.Finding
	for _, f := range fs {
		if f.Kind != kind {
			out = append(out, f)
		}
	}
	return out
}

func nonNil(fs []audit.Finding) []audit.Finding {
	if fs == nil {
		return []audit.Finding{}
	}
	return fs
}

// replayHistory replays one run's standard JSON history.
func replayHistory(ctx context.Context, file string, data []byte, opts ...audit.Option) (*replayOutput, error) {
	h, err := audit.ParseHistory(data)
	if err != nil {
		return nil, usageErrorf("%s is neither a bundle (zip) nor a JSON history: %v", file, err)
	}
	rep, err := audit.ReplayHistories(ctx, []*historypb.History{h}, opts...)
	if errors.Is(err, audit.ErrEncryptedPayloads) || errors.Is(err, audit.ErrPayloadKeys) {
		return nil, usageErrorf("%s: %v", file, err)
	}
	if err != nil {
		return nil, err
	}
	return &replayOutput{
		File: file, Kind: "history", SelectionID: rep.Facts.SelectionID, WorkflowID: rep.WorkflowID,
		Runs: rep.Runs, State: rep.State, Result: rep.Result,
		Findings: nonNil(rep.Findings), OK: rep.OK(),
	}, nil
}

// checkKeyHint says how to check a bundle's signature.
const checkKeyHint = "to check it, save the published key with 'seleksictl audit key > key.pem' and run again with --key key.pem"

// replayVerdict says why a replay is not OK: the findings by kind, and a signature that was
// not checked, which alone keeps a bundle from being OK.
func replayVerdict(out *replayOutput) string {
	unchecked := out.Signature != nil && !out.Signature.Verified && out.Signature.Key == ""
	switch {
	case len(out.Findings) == 0 && unchecked:
		return "the signature was not checked (no --key), nothing else was found; " + checkKeyHint
	case unchecked:
		return fmt.Sprintf("%d finding(s): %s; the signature was not checked (no --key); %s", len(out.Findings), findingKinds(out.Findings), checkKeyHint)
	}
	return fmt.Sprintf("%d finding(s): %s", len(out.Findings), findingKinds(out.Findings))
}

// findingKinds summarises findings by kind for the one-line error, such as
// "nondeterminism, part_digest_mismatch".
func findingKinds(fs []audit.Finding) string {
	var kinds []string
	seen := map[string]bool{}
	for _, f := range fs {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			kinds = append(kinds, f.Kind)
		}
	}
	return strings.Join(kinds, ", ")
}

func printReplay(inv *invocation, out *replayOutput) error {
	w := inv.app.Stdout
	if inv.g.output == "json" {
		return writeJSON(w, out)
	}
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	verdict := "ok"
	if !out.OK {
		verdict = "NOT OK: " + replayVerdict(out)
	}
	t.row("File", out.File+" ("+out.Kind+")")
	t.field("Selection", out.SelectionID)
	t.field("Workflow", out.WorkflowID)
	t.row("Result", verdict)
	if s := out.Signature; s != nil {
		t.row("Signature", s.Note)
		t.row("Key", s.KeyFingerprint)
		if s.Key != "" && s.Key != s.KeyFingerprint {
			t.row("--key", s.Key)
		}
		t.row("Parts", partsVerdict(out))
		t.row("Audit events", strconv.Itoa(out.AuditEvents))
	}
	t.blank()
	t.row("RUN", "RUN ID", "EVENTS", "CLOSE", "REPLAY")
	for _, r := range out.Runs {
		t.row(strconv.Itoa(r.Index), r.RunID, strconv.Itoa(r.Events), r.Close, runVerdict(r, out.Findings))
	}
	if st := out.State; st != nil {
		t.blank()
		t.row("Rebuilt stage", string(st.Stage))
		t.field("Phase", string(st.Phase))
		if st.Runs > 0 {
			t.row("Continued as new", strconv.Itoa(st.Runs)+" time(s)")
		}
		t.blank()
		t.row("APPLICATION", "CANDIDATE", "STATE", "RANK", "FINAL SCORE", "ELIMINATED AT")
		for _, a := range st.Applications {
			rank := ""
			if a.Rank > 0 {
				rank = strconv.Itoa(a.Rank)
			}
			t.row(a.ID, a.Candidate, string(a.State), rank, fmtHundredths(a.Final), string(a.EliminatedAt))
		}
	} else {
		t.blank()
		t.row("Rebuilt stage", "none: the last run did not replay")
	}
	if len(out.Findings) > 0 {
		t.blank()
		t.row("KIND", "PART", "RUN", "EVENTS", "AUDIT SEQ", "MESSAGE")
		for _, f := range out.Findings {
			run := ""
			if f.Run > 0 {
				run = strconv.Itoa(f.Run)
			}
			t.row(f.Kind, f.Part, run, joinInts(f.EventIDs), joinInts(f.Seqs), factMessage(f))
		}
	}
	return t.tw.Flush()
}

// factMessage is a finding's message, led by the projected fact it concerns (table, row
// key, column) when it concerns one, so that each line says what differs where.
func factMessage(f audit.Finding) string {
	if f.Table == "" {
		return f.Message
	}
	fact := f.Table + " " + f.Row
	if f.Column != "" {
		fact += " column " + f.Column
	}
	return fact + ": " + f.Message
}

// partsVerdict summarises the part findings for the header.
func partsVerdict(out *replayOutput) string {
	n := 0
	for _, f := range out.Findings {
		switch f.Kind {
		case audit.KindPartDigestMismatch, audit.KindPartMissing, audit.KindPartUnlisted, audit.KindPartInvalid:
			n++
		}
	}
	if n == 0 {
		return fmt.Sprintf("%d, every size and SHA-256 as the manifest lists", len(out.Parts))
	}
	return fmt.Sprintf("%d, %d problem(s) (see findings)", len(out.Parts), n)
}

// runVerdict is one run's replay outcome, naming the event non-determinism was found at.
func runVerdict(r audit.RunReport, fs []audit.Finding) string {
	if r.Replayed {
		return "ok"
	}
	kind := "failed"
	for _, f := range fs {
		if f.Run == r.Index && (f.Kind == audit.KindNondeterminism || f.Kind == audit.KindReplayFailed) {
			kind = f.Kind
			break
		}
	}
	if r.EventID != 0 {
		return fmt.Sprintf("%s at event %d", kind, r.EventID)
	}
	return kind
}

// fmtHundredths shows a workflows.Score (hundredths of a point) as a decimal, empty for none.
func fmtHundredths(s workflows.Score) string {
	if s == 0 {
		return ""
	}
	return fmt.Sprintf("%d.%02d", s/100, s%100)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode answer as JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func auditTimeline() *command {
	var bundleFile, keyFile, payloadKeys string
	return &command{
		path: "audit timeline", args: "(ID | --bundle FILE) [--key PEM_FILE] [--payload-keys PATH] [--lang id|en] [-o table|json]", nargs: 1, optArgs: true,
		summary: "show who did what, when and why in a selection, stage by stage (auditor)",
		help: `With ID the bundle is exported from the server (auditor token); with --bundle FILE it is read
from a file 'seleksictl audit export' wrote, offline. --lang chooses the language of the
account (id or en); -o json prints the entries with their history event IDs and audit
sequence numbers. The parts are checked against the manifest's digests, and the signature
with --key when given; problems are printed on stderr and exit with code 3, after the
timeline.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&bundleFile, "bundle", "", "bundle `FILE` to read instead of exporting from the server")
			fs.StringVar(&keyFile, "key", "", "`PEM_FILE` with the public key the bundle must be signed with")
			fs.StringVar(&payloadKeys, "payload-keys", "", payloadKeysUsage)
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if (len(args) == 1) == (bundleFile != "") {
				return usageErrorf("usage: seleksictl audit timeline (ID | --bundle FILE): give exactly one")
			}
			var ring keyRing
			if keyFile != "" {
				var err error
				if ring, err = loadPublicKey(keyFile); err != nil {
					return err
				}
			}
			var (
				data []byte
				src  string
			)
			if bundleFile != "" {
				b, err := os.ReadFile(bundleFile)
				if err != nil {
					return usageErrorf("--bundle: %v", err)
				}
				data, src = b, bundleFile
			} else {
				name, err := selectionName(args[0])
				if err != nil {
					return err
				}
				// The bundle is downloaded as `audit export` downloads it, so both sources are
				// read, and checked, by the same code.
				dl, err := downloadBundle(ctx, inv, name, "", "seleksi-bundle-*.zip")
				if err != nil {
					return err
				}
				defer dl.discard()
				if _, err := dl.file.Seek(0, io.SeekStart); err != nil {
					return err
				}
				if data, err = io.ReadAll(dl.file); err != nil {
					return fmt.Errorf("the server's bundle: %w", err)
				}
				src = name
			}
			b, err := audit.ReadBundle(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				return usageErrorf("%s: %v", src, err)
			}
			runs := make([]*historypb.History, 0, len(b.Histories))
			for i, h := range b.Histories {
				parsed, err := audit.ParseHistory(h.JSON)
				if err != nil {
					return &codedError{code: ExitVerification, err: fmt.Errorf("%s: run %d: %w", src, i+1, err)}
				}
				runs = append(runs, parsed)
			}
			if len(runs) == 0 {
				return &codedError{code: ExitVerification, err: fmt.Errorf("%s holds no history", src)}
			}
			// The account needs only what the histories record (not a replay), so it is
			// quick even for long selections; `audit replay` proves the code agrees.
			opts, err := payloadKeyOptions(inv, payloadKeys)
			if err != nil {
				return err
			}
			facts, problems := audit.ExtractFacts(runs, opts...)
			problems = append(problems, b.CheckParts()...)
			if pub := ring.forFingerprint(b.Manifest.KeyFingerprint); pub != nil {
				if err := b.VerifySignature(pub); err != nil {
					problems = append(problems, audit.Finding{Kind: audit.KindSignatureInvalid, Part: audit.SignatureName, Message: err.Error()})
				}
			}
			lang := inv.g.lang
			cat, err := i18n.NewCatalog()
			if err != nil {
				return err
			}
			entries := audit.Timeline(facts, b.Events, lang, cat)
			if inv.g.output == "json" {
				err = writeJSON(inv.app.Stdout, struct {
					SelectionID string                `json:"selectionId"`
					WorkflowID  string                `json:"workflowId"`
					Lang        string                `json:"lang"`
					Zone        string                `json:"zone,omitempty"`
					Entries     []audit.TimelineEntry `json:"entries"`
					Findings    []audit.Finding       `json:"findings"`
				}{b.SelectionID, b.WorkflowID, lang, facts.Zone, entries, nonNil(problems)})
			} else {
				err = audit.RenderTimeline(inv.app.Stdout, entries, facts.Zone, lang)
			}
			if err != nil {
				return err
			}
			if len(problems) > 0 {
				for _, f := range problems {
					fmt.Fprintln(inv.app.Stderr, f.String())
				}
				return &codedError{code: ExitVerification,
					err: fmt.Errorf("%s: the timeline rests on evidence that does not hold: %s", src, findingKinds(problems))}
			}
			return nil
		},
	}
}
