package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSFlags: TLS of the servers and of the Temporal client is off by default, comes from
// flags or the environment, makes cookies Secure, keeps the API key out of flags, and refuses
// half or contradictory settings with the flag's name.
func TestTLSFlags(t *testing.T) {
	dir := t.TempDir()
	file := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key, ca, apiKey := file("s.crt"), file("s.key"), file("ca.pem"), file("api-key")
	https := []string{"-public-url", "https://seleksi.example.go.id"}
	external := []string{"-temporal-address", "temporal.example:7233", "-mode", "worker"}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{name: "off by default", check: func(t *testing.T, c Config) {
			if c.TLS.Enabled() || c.TemporalTLS.Enabled || c.Secure() {
				t.Errorf("TLS %+v, Temporal %+v, Secure %v", c.TLS, c.TemporalTLS, c.Secure())
			}
		}},
		{name: "servers from flags", args: append([]string{"-tls-cert-file", cert, "-tls-key-file", key, "-tls-client-ca-file", ca}, https...),
			check: func(t *testing.T, c Config) {
				if !c.TLS.Enabled() || c.TLS.ClientCAFile != ca || c.TLS.ClientAuthHTTP || !c.Secure() {
					t.Errorf("TLS %+v, Secure %v", c.TLS, c.Secure())
				}
			}},
		{name: "servers from the environment", env: map[string]string{"SELEKSI_TLS_CERT_FILE": cert, "SELEKSI_TLS_KEY_FILE": key,
			"SELEKSI_TLS_CLIENT_CA_FILE": ca, "SELEKSI_TLS_CLIENT_AUTH_HTTP": "true", "SELEKSI_PUBLIC_URL": "https://seleksi.example.go.id"},
			check: func(t *testing.T, c Config) {
				if c.TLS.CertFile != cert || c.TLS.KeyFile != key || !c.TLS.ClientAuthHTTP {
					t.Errorf("TLS %+v", c.TLS)
				}
			}},
		{name: "cert without key", args: append([]string{"-tls-cert-file", cert}, https...), wantErr: "-tls-cert-file and -tls-key-file"},
		{name: "client CA without cert", args: []string{"-tls-client-ca-file", ca}, wantErr: "-tls-client-ca-file needs -tls-cert-file"},
		{name: "client auth on HTTP without CA", args: append([]string{"-tls-cert-file", cert, "-tls-key-file", key, "-tls-client-auth-http"}, https...),
			wantErr: "-tls-client-auth-http needs -tls-client-ca-file"},
		{name: "TLS with a plain-text public URL", args: []string{"-tls-cert-file", cert, "-tls-key-file", key}, wantErr: "must be an https URL"},
		{name: "missing file", args: append([]string{"-tls-cert-file", cert, "-tls-key-file", filepath.Join(dir, "none")}, https...), wantErr: "-tls-key-file:"},
		{name: "bad boolean", env: map[string]string{"SELEKSI_TLS_CLIENT_AUTH_HTTP": "maybe"}, wantErr: "SELEKSI_TLS_CLIENT_AUTH_HTTP"},

		{name: "Temporal mutual TLS", args: append([]string{"-temporal-tls-ca-file", ca, "-temporal-tls-cert-file", cert, "-temporal-tls-key-file", key,
			"-temporal-tls-server-name", "frontend.temporal"}, external...),
			check: func(t *testing.T, c Config) {
				tc := c.TemporalTLS
				if !tc.Enabled || tc.CAFile != ca || tc.CertFile != cert || tc.KeyFile != key || tc.ServerName != "frontend.temporal" || tc.APIKey != "" {
					t.Errorf("Temporal TLS %+v", tc)
				}
				if c.Secure() {
					t.Error("Temporal TLS made the web cookies Secure")
				}
			}},
		{name: "Temporal TLS alone", args: append([]string{"-temporal-tls"}, external...), check: func(t *testing.T, c Config) {
			if !c.TemporalTLS.Enabled || c.TemporalTLS.CAFile != "" {
				t.Errorf("Temporal TLS %+v", c.TemporalTLS)
			}
		}},
		{name: "Temporal API key from the environment implies TLS", args: external, env: map[string]string{"SELEKSI_TEMPORAL_API_KEY": " key-123 \n"},
			check: func(t *testing.T, c Config) {
				if !c.TemporalTLS.Enabled || string(c.TemporalTLS.APIKey) != "key-123" {
					t.Errorf("Temporal TLS %+v", c.TemporalTLS)
				}
			}},
		{name: "Temporal API key file", args: append([]string{"-temporal-api-key-file", apiKey}, external...), check: func(t *testing.T, c Config) {
			if !c.TemporalTLS.Enabled || c.TemporalTLS.APIKeyFile != apiKey {
				t.Errorf("Temporal TLS %+v", c.TemporalTLS)
			}
		}},
		{name: "Temporal API key twice", args: append([]string{"-temporal-api-key-file", apiKey}, external...),
			env: map[string]string{"SELEKSI_TEMPORAL_API_KEY": "k"}, wantErr: "give one"},
		{name: "Temporal API key is no flag", args: append([]string{"-temporal-api-key", "k"}, external...), wantErr: "flag provided but not defined"},
		{name: "Temporal client cert without key", args: append([]string{"-temporal-tls-cert-file", cert}, external...), wantErr: "-temporal-tls-cert-file and -temporal-tls-key-file"},
		{name: "Temporal TLS on the embedded server", args: []string{"-temporal-tls"}, wantErr: "need -temporal-address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
