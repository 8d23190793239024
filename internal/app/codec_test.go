package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
)

// roleTokens verifies tokens that are role names, and refuses the rest.
type roleTokens struct{}

func (roleTokens) Verify(_ context.Context, token string) (auth.Principal, error) {
	r, err := auth.ParseRole(token)
	if err != nil || token == "" {
		return auth.Principal{}, fmt.Errorf("%w: not a test token", auth.ErrUnauthenticated)
	}
	return auth.Principal{Subject: "s", Role: r}, nil
}

func TestCodecHandler(t *testing.T) {
	secret := make([]byte, payloadcodec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	codec, err := payloadcodec.New([]payloadcodec.Key{{ID: "k1", Secret: secret}}, "")
	if err != nil {
		t.Fatal(err)
	}
	const origin = "https://temporal-ui.example.go.id"
	h := newCodecHandler(codec, roleTokens{}, []string{origin}, slog.New(slog.DiscardHandler))
	clear, err := converter.GetDefaultDataConverter().ToPayload("app-0001")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := codec.Encode([]*commonpb.Payload{clear})
	if err != nil {
		t.Fatal(err)
	}
	body := func(p *commonpb.Payload) []byte {
		b, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, method, path, token, origin string
		in                                *commonpb.Payload
		want                              int
		wantCORS                          bool
	}{
		{"anonymous", "POST", "/codec/decode", "", origin, sealed[0], http.StatusUnauthorized, true},
		{"candidate", "POST", "/codec/decode", "candidate", origin, sealed[0], http.StatusForbidden, true},
		{"committee", "POST", "/codec/decode", "committee", origin, sealed[0], http.StatusForbidden, true},
		{"auditor decodes", "POST", "/codec/decode", "auditor", origin, sealed[0], http.StatusOK, true},
		{"auditor may not encode", "POST", "/codec/encode", "auditor", origin, clear, http.StatusForbidden, true},
		{"admin encodes", "POST", "/codec/encode", "admin", "", clear, http.StatusOK, false},
		{"another origin gets no CORS grant", "POST", "/codec/decode", "admin", "https://evil.example", sealed[0], http.StatusOK, false},
		{"GET", "GET", "/codec/decode", "admin", "", nil, http.StatusMethodNotAllowed, false},
		{"unknown operation", "POST", "/codec/other", "admin", "", clear, http.StatusNotFound, false},
		{"preflight", "OPTIONS", "/codec/decode", "", origin, nil, http.StatusNoContent, true},
		{"altered payload", "POST", "/codec/decode", "auditor", "", func() *commonpb.Payload {
			p := proto.Clone(sealed[0]).(*commonpb.Payload)
			p.Data[len(p.Data)-1] ^= 1
			return p
		}(), http.StatusBadRequest, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in io.Reader
			if tc.in != nil {
				in = bytes.NewReader(body(tc.in))
			}
			req := httptest.NewRequest(tc.method, tc.path, in)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.want)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin") == origin; got != tc.wantCORS {
				t.Errorf("CORS grant %v, want %v", got, tc.wantCORS)
			}
			if rec.Code != http.StatusOK {
				if bytes.Contains(rec.Body.Bytes(), []byte("app-0001")) {
					t.Errorf("a refusal shows the payload: %s", rec.Body)
				}
				return
			}
			var out commonpb.Payloads
			if err := protojson.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.GetPayloads()) != 1 {
				t.Fatalf("%s (%v)", rec.Body, err)
			}
			p := out.GetPayloads()[0]
			if tc.path == "/codec/decode" && !proto.Equal(p, clear) {
				t.Errorf("decoded %v", p)
			}
			if tc.path == "/codec/encode" && !payloadcodec.Encrypted(p) {
				t.Errorf("encoded %v", p.GetMetadata())
			}
		})
	}
}

// TestPayloadKeysOfSplitProcesses: the embedded default creates its payload key file on
// first start; an API or worker process of a split deployment refuses to start without the
// shared keys rather than make keys of its own, and starts with the key file mounted.
func TestPayloadKeysOfSplitProcesses(t *testing.T) {
	parse := func(args ...string) config.Config {
		t.Helper()
		cfg, err := config.Parse(args, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	all := t.TempDir()
	c, err := openPayloadCodec(parse("-data-dir", all), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("embedded default: %v", err)
	}
	for _, mode := range []string{"api", "worker"} {
		dir := t.TempDir()
		cfg := parse("-data-dir", dir, "-mode", mode, "-temporal-address", "temporal.invalid:7233")
		if _, err := openPayloadCodec(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "-payload-keys") {
			t.Errorf("-mode %s without keys: %v, want a refusal naming -payload-keys", mode, err)
		}
		if _, err := os.Stat(payloadcodec.DefaultPath(dir)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("-mode %s created a key file", mode)
		}
		// The shared keys, as a Secret mounted on the keys folder or named by -payload-keys.
		keyFile, err := os.ReadFile(payloadcodec.DefaultPath(all))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(payloadcodec.DefaultPath(dir)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(payloadcodec.DefaultPath(dir), keyFile, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := openPayloadCodec(cfg, slog.New(slog.DiscardHandler))
		if err != nil || got.ActiveKeyID() != c.ActiveKeyID() {
			t.Errorf("-mode %s with the mounted key file: %v", mode, err)
		}
		other := filepath.Join(t.TempDir(), "payload.keys")
		if err := os.WriteFile(other, keyFile, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := openPayloadCodec(parse("-data-dir", t.TempDir(), "-mode", mode, "-temporal-address", "temporal.invalid:7233", "-payload-keys", other), slog.New(slog.DiscardHandler)); err != nil {
			t.Errorf("-mode %s with -payload-keys: %v", mode, err)
		}
	}
}
