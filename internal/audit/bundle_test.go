package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var exportTime = time.Date(2026, 12, 20, 3, 0, 0, 0, time.UTC)

// makeBundle exports one recorded history as the server would: the history, the audit chain
// the store would hold for it, and the snapshot digests of untouched rows.
func makeBundle(t *testing.T, history []byte, key ed25519.PrivateKey) []byte {
	t.Helper()
	rep, err := Replay(context.Background(), [][]byte{history})
	if err != nil {
		t.Fatal(err)
	}
	b := Bundle{
		SelectionID: rep.Facts.SelectionID, WorkflowID: rep.Facts.WorkflowID, CreatedAt: exportTime,
		Histories: []RunHistory{{JSON: history}},
		Events:    eventsFromFacts(t, rep.Facts, true),
		Snapshots: digestsFromFacts(rep.Facts),
	}
	var buf bytes.Buffer
	if err := WriteBundle(&buf, b, key); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBundleRoundTrip(t *testing.T) {
	key := testKey("server")
	for name, h := range recorded(t) {
		t.Run(name, func(t *testing.T) {
			data := makeBundle(t, h, key)
			if again := makeBundle(t, h, key); !bytes.Equal(data, again) {
				t.Error("the same content gives different archives")
			}
			b := readBundle(t, data)
			if err := b.VerifySignature(key.Public().(ed25519.PublicKey)); err != nil {
				t.Fatalf("VerifySignature: %v", err)
			}
			// The algorithm has one label, the one JWS, the JWK and the API use.
			if b.Signature.Algorithm != "EdDSA" {
				t.Errorf("manifest.sig names algorithm %q, want EdDSA", b.Signature.Algorithm)
			}
			if fs := b.CheckParts(); len(fs) > 0 {
				t.Fatalf("CheckParts: %v", fs)
			}
			if len(b.Histories) != 1 || !bytes.Equal(b.Histories[0].JSON, h) || b.Histories[0].RunID == "" {
				t.Errorf("history not carried as given (run ID %q)", b.Histories[0].RunID)
			}
			if !strings.HasPrefix(b.Manifest.Parts[0].Name, "history/001-"+b.Histories[0].RunID) {
				t.Errorf("history part named %s", b.Manifest.Parts[0].Name)
			}
			rep, err := VerifyBundle(context.Background(), b, key.Public().(ed25519.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("findings on an untouched bundle: %v", rep.Findings)
			}
		})
	}
}

func TestBundleTamper(t *testing.T) {
	key := testKey("server")
	pub := key.Public().(ed25519.PublicKey)
	happy := recorded(t)["happy-path"]
	if happy == nil {
		t.Skip("no happy-path history")
	}
	orig := makeBundle(t, happy, key)
	other := makeBundle(t, recorded(t)["cancelled-at-competency"], key)
	histName := readBundle(t, orig).Manifest.Parts[0].Name
	fileOf := func(data []byte, name string) []byte {
		b := readBundle(t, data)
		if name == ManifestName {
			return b.ManifestJSON
		}
		if name == SignatureName {
			var out []byte
			rewriteZip(t, data, func(n string, d []byte) []byte {
				if n == SignatureName {
					out = d
				}
				return d
			})
			return out
		}
		d := b.partsByName()[name]
		return d
	}
	tests := []struct {
		name string
		edit func() []byte
		kind string
		part string
		// sigErr is the VerifySignature error expected, if any.
		sigErr error
	}{
		{"one byte of the history", func() []byte {
			return rewriteZip(t, orig, func(n string, d []byte) []byte {
				if n == histName {
					// A timer's duration: replay alone would not notice, since the SDK
					// matches timers by ID, so only the digest protects it.
					d = bytes.Clone(d)
					i := bytes.Index(d, []byte(`"startToFireTimeout": "1`)) + len(`"startToFireTimeout": "`)
					d[i] = '2'
				}
				return d
			})
		}, KindPartDigestMismatch, histName, nil},
		{"an audit event renumbered", func() []byte {
			return rewriteZip(t, orig, func(n string, d []byte) []byte {
				if n == EventsPart {
					d = bytes.Replace(d, []byte(`"seq": 3,`), []byte(`"seq": 33,`), 1)
				}
				return d
			})
		}, KindPartDigestMismatch, EventsPart, nil},
		{"signature of another bundle", func() []byte {
			sig := fileOf(other, SignatureName)
			return rewriteZip(t, orig, func(n string, d []byte) []byte {
				if n == SignatureName {
					return sig
				}
				return d
			})
		}, KindSignatureInvalid, SignatureName, ErrBadSignature},
		{"signed with another key", func() []byte {
			return makeBundle(t, happy, testKey("impostor"))
		}, KindSignatureInvalid, SignatureName, ErrWrongKey},
		{"manifest edited", func() []byte {
			return rewriteZip(t, orig, func(n string, d []byte) []byte {
				if n == ManifestName {
					d = bytes.Replace(d, []byte(`"selectionId":"rec-happy-path"`), []byte(`"selectionId":"rec-other-path"`), 1)
				}
				return d
			})
		}, KindSignatureInvalid, SignatureName, ErrBadSignature},
		{"part altered and its digest updated in the manifest", func() []byte {
			// A careful forger fixes the digest too; then the signature no longer holds.
			edited := rewriteZip(t, orig, func(n string, d []byte) []byte {
				if n == EventsPart {
					d = bytes.Replace(d, []byte(`"reason": "experience in the regional health programme"`), []byte(`"reason": "better connections"`), 1)
				}
				return d
			})
			b := readBundle(t, edited)
			newDigest := fileDigest(fileOf(edited, EventsPart))
			var oldDigest string
			for _, p := range b.Manifest.Parts {
				if p.Name == EventsPart {
					oldDigest = p.SHA256
				}
			}
			return rewriteZip(t, edited, func(n string, d []byte) []byte {
				if n == ManifestName {
					d = bytes.Replace(d, []byte(oldDigest), []byte(newDigest), 1)
				}
				return d
			})
		}, KindSignatureInvalid, SignatureName, ErrBadSignature},
		{"signature removed", func() []byte {
			return rewriteZip(t, orig, func(n string, d []byte) []byte {
				if n == SignatureName {
					return nil
				}
				return d
			})
		}, KindSignatureInvalid, SignatureName, ErrNoSignature},
		{"part removed", func() []byte {
			return rewriteZip(t, orig, func(n string, d []byte) []byte {
				if n == SnapshotsPart {
					return nil
				}
				return d
			})
		}, KindPartMissing, SnapshotsPart, nil},
		{"file added", func() []byte {
			return rewriteZip(t, orig, nil, Part{Name: "history/000-forged.json", Data: happy})
		}, KindPartUnlisted, "history/000-forged.json", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.edit()
			b := readBundle(t, data)
			err := b.VerifySignature(pub)
			if tc.sigErr == nil && err != nil {
				t.Errorf("VerifySignature: %v", err)
			}
			if tc.sigErr != nil && !errors.Is(err, tc.sigErr) {
				t.Errorf("VerifySignature = %v, want %v", err, tc.sigErr)
			}
			rep, err := VerifyBundle(context.Background(), b, pub)
			if err != nil {
				t.Fatal(err)
			}
			var hit bool
			for _, f := range rep.Findings {
				if f.Kind == tc.kind && f.Part == tc.part {
					hit = true
				}
			}
			if !hit {
				t.Fatalf("no %s finding for %s in %v", tc.kind, tc.part, rep.Findings)
			}
			// The streaming check (what seleksictl runs on a download) finds the same.
			_, fs, err := CheckArchive(bytes.NewReader(data), int64(len(data)), pub)
			if err != nil {
				t.Fatalf("CheckArchive: %v", err)
			}
			if !slices.ContainsFunc(fs, func(f Finding) bool { return f.Kind == tc.kind && f.Part == tc.part }) {
				t.Errorf("CheckArchive: no %s finding for %s in %v", tc.kind, tc.part, fs)
			}
		})
	}
}

func fileDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestReadBundleRejects(t *testing.T) {
	key := testKey("server")
	happy := recorded(t)["happy-path"]
	orig := makeBundle(t, happy, key)
	for name, data := range map[string][]byte{
		"not a zip":   []byte("PK but not really"),
		"no manifest": rewriteZip(t, orig, func(n string, d []byte) []byte { return map[bool][]byte{true: nil, false: d}[n == ManifestName] }),
		"future format": rewriteZip(t, orig, func(n string, d []byte) []byte {
			if n == ManifestName {
				return bytes.Replace(d, []byte(`"version":1`), []byte(`"version":2`), 1)
			}
			return d
		}),
	} {
		if _, err := ReadBundle(bytes.NewReader(data), int64(len(data))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestGoldenBundles verifies the bundles kept under testdata/, exported from complete
// selections. They stand for what an auditor holds years later: they must keep verifying
// (and their histories keep replaying) with the current code. -update exports them again
// from workflows/testdata, which is right only when the change to them is intended.
func TestGoldenBundles(t *testing.T) {
	key := testKey("server")
	if *update {
		for name, h := range recorded(t) {
			if err := os.WriteFile(filepath.Join("testdata", name+".bundle.zip"), makeBundle(t, h, key), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.bundle.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden bundles in testdata/: run with -args -update")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := VerifyBundle(context.Background(), readBundle(t, data), key.Public().(ed25519.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("findings: %v", rep.Findings)
			}
			if rep.Replay.State == nil || !rep.Replay.State.Stage.Terminal() {
				t.Errorf("rebuilt state %v is not a complete selection", rep.Replay.State)
			}
		})
	}
}
