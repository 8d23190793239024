package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
)

// encryptHistory encrypts every payload of a history's JSON (search attributes aside, as the
// SDK does) with c: the history a deployment with payload encryption exports.
func encryptHistory(t *testing.T, b []byte, c *payloadcodec.Codec) []byte {
	t.Helper()
	h, err := audit.ParseHistory(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return c.Encode(ps)
		},
	}); err != nil {
		t.Fatal(err)
	}
	out, err := audit.MarshalHistory(h)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuditReplayEncrypted: a history or a bundle whose payloads are encrypted replays offline
// with --payload-keys (or SELEKSI_PAYLOAD_KEYS), and without the keys the auditor is told
// which key IDs are needed.
func TestAuditReplayEncrypted(t *testing.T) {
	dir := t.TempDir()
	secret := make([]byte, payloadcodec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	const kid = "20261201-0a0b0c0d"
	codec, err := payloadcodec.New([]payloadcodec.Key{{ID: kid, Secret: secret}}, "")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	keys := write("payload.keys", []byte("# test\n"+kid+" "+base64.StdEncoding.EncodeToString(secret)+"\n"))
	wrongKeys := write("wrong.keys", []byte(kid+" "+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))+"\n"))
	history := encryptHistory(t, recordedHistory(t, "happy-path"), codec)
	if bytes.Contains(history, []byte("app-0005")) {
		t.Fatal("the encrypted history still names an application in clear")
	}
	encHistory := write("encrypted.json", history)

	// The golden bundle again, its history encrypted and signed as the server signs it.
	golden := goldenBundle(t, "happy-path")
	b, err := audit.ReadBundle(bytes.NewReader(golden), int64(len(golden)))
	if err != nil {
		t.Fatal(err)
	}
	hs := make([]audit.RunHistory, len(b.Histories))
	for i, h := range b.Histories {
		hs[i] = h
		hs[i].JSON = encryptHistory(t, h.JSON, codec)
	}
	var buf bytes.Buffer
	if err := audit.WriteBundle(&buf, audit.Bundle{SelectionID: b.SelectionID, WorkflowID: b.WorkflowID, CreatedAt: b.CreatedAt,
		Histories: hs, Events: b.Events, Snapshots: b.Snapshots, Projection: b.Projection, Documents: b.Documents}, auditTestKey("server")); err != nil {
		t.Fatal(err)
	}
	encBundle := write("encrypted.bundle.zip", buf.Bytes())
	key := writeKeyPEM(t, auditTestKey("server"))

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		contains string
	}{
		{"history with the keys", nil, []string{encHistory, "--payload-keys", keys}, ExitOK, "Rebuilt stage  STAGE_CLOSED"},
		{"history with the keys from the environment", map[string]string{"SELEKSI_PAYLOAD_KEYS": keys}, []string{encHistory}, ExitOK, "STAGE_CLOSED"},
		{"history without the keys", nil, []string{encHistory}, ExitUsage, kid},
		{"history with another key of that ID", nil, []string{encHistory, "--payload-keys", wrongKeys}, ExitUsage, "failed authentication"},
		{"bundle with the keys", nil, []string{encBundle, "--key", key, "--payload-keys", keys}, ExitOK, "Result        ok"},
		{"bundle without the keys", nil, []string{encBundle, "--key", key}, ExitVerification, kid},
		{"unreadable keys", nil, []string{encBundle, "--key", key, "--payload-keys", filepath.Join(dir, "none")}, ExitUsage, "--payload-keys"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, "", tc.env, append([]string{"audit", "replay"}, tc.args...)...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%.3000s\nstderr:\n%s", res.code, tc.code, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stdout+res.stderr, tc.contains) {
				t.Errorf("the output lacks %q:\n%.3000s\n%s", tc.contains, res.stdout, res.stderr)
			}
		})
	}
	res := runCLI(t, "", nil, "audit", "timeline", "--bundle", encBundle, "--key", key, "--payload-keys", keys)
	if res.code != ExitOK || !strings.Contains(res.stdout, "STAGE_") && len(res.stdout) < 200 {
		t.Errorf("timeline with the keys: exit %d\n%.2000s\n%s", res.code, res.stdout, res.stderr)
	}
	if res := runCLI(t, "", nil, "audit", "timeline", "--bundle", encBundle, "--key", key); res.code != ExitVerification {
		t.Errorf("timeline without the keys: exit %d, want %d", res.code, ExitVerification)
	}
}
