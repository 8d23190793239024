package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/ratelimit"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "defaults run everything embedded",
			check: func(t *testing.T, c Config) {
				if c.Mode != ModeAll || !c.Embedded() || !c.RunsAPI() || !c.RunsWorker() {
					t.Errorf("got mode %s embedded=%v", c.Mode, c.Embedded())
				}
				if c.GRPCAddr != ":9090" || c.HTTPAddr != ":8080" || c.EmbeddedFrontendAddr != "127.0.0.1:7233" || c.EmbeddedUIAddr != "127.0.0.1:8233" {
					t.Errorf("addresses: %+v", c)
				}
				if got, want := c.StoreURL(), "sqlite:data/seleksi.db"; got != want {
					t.Errorf("StoreURL = %q, want %q", got, want)
				}
				if c.TemporalRetention != 30*24*time.Hour {
					t.Errorf("retention = %s", c.TemporalRetention)
				}
			},
		},
		{
			name: "environment fills in what flags leave out",
			env:  map[string]string{"SELEKSI_GRPC_ADDR": "127.0.0.1:1", "SELEKSI_DATABASE_URL": "postgres://u@h/db", "SELEKSI_TEMPORAL_ADDRESS": "temporal:7233", "SELEKSI_MODE": "worker"},
			check: func(t *testing.T, c Config) {
				if c.GRPCAddr != "127.0.0.1:1" || c.StoreURL() != "postgres://u@h/db" || c.Embedded() || c.RunsAPI() || !c.RunsWorker() {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "flags beat environment",
			args: []string{"-grpc-addr", "127.0.0.1:2", "-data-dir", "/tmp/x"},
			env:  map[string]string{"SELEKSI_GRPC_ADDR": "127.0.0.1:1"},
			check: func(t *testing.T, c Config) {
				if c.GRPCAddr != "127.0.0.1:2" || c.StoreURL() != "sqlite:/tmp/x/seleksi.db" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{name: "demo time scale", args: []string{"-demo-seconds-per-day", "2"},
			check: func(t *testing.T, c Config) {
				if c.DemoSecondsPerDay != 2 {
					t.Errorf("DemoSecondsPerDay = %d", c.DemoSecondsPerDay)
				}
			}},
		{name: "negative time scale", args: []string{"-demo-seconds-per-day", "-5"}, wantErr: "-demo-seconds-per-day"},
		// The demonstration seed (issue 12).
		{name: "no demo by default", check: func(t *testing.T, c Config) {
			if c.Demo {
				t.Error("Demo on by default")
			}
		}},
		{name: "demo on the embedded default", args: []string{"-demo"}, check: func(t *testing.T, c Config) {
			if !c.Demo {
				t.Error("Demo off")
			}
		}},
		{name: "demo from the environment", env: map[string]string{"SELEKSI_DEMO": "true", "SELEKSI_DATABASE_URL": "sqlite:/tmp/d.db"},
			check: func(t *testing.T, c Config) {
				if !c.Demo {
					t.Error("Demo off")
				}
			}},
		{name: "demo refused on PostgreSQL", args: []string{"-demo", "-database-url", "postgres://u@h/db"}, wantErr: "-demo"},
		{name: "demo refused with external Temporal", args: []string{"-demo", "-temporal-address", "t:7233"}, wantErr: "-demo"},
		{name: "demo anywhere with a demo time scale",
			args: []string{"-demo", "-demo-seconds-per-day", "60", "-temporal-address", "t:7233", "-database-url", "postgres://u@h/db"},
			check: func(t *testing.T, c Config) {
				if !c.Demo || c.DemoSecondsPerDay != 60 {
					t.Errorf("Demo %v, DemoSecondsPerDay %d", c.Demo, c.DemoSecondsPerDay)
				}
			}},
		{name: "malformed demo in the environment", env: map[string]string{"SELEKSI_DEMO": "ja"}, wantErr: "SELEKSI_DEMO"},
		{name: "tokens live a day at most by default",
			check: func(t *testing.T, c Config) {
				if c.MaxTokenLifetime != 24*time.Hour {
					t.Errorf("MaxTokenLifetime = %s", c.MaxTokenLifetime)
				}
			}},
		{name: "maximum token lifetime from the environment", env: map[string]string{"SELEKSI_MAX_TOKEN_LIFETIME": "8h"},
			check: func(t *testing.T, c Config) {
				if c.MaxTokenLifetime != 8*time.Hour {
					t.Errorf("MaxTokenLifetime = %s", c.MaxTokenLifetime)
				}
			}},
		{name: "a century of token lifetime", args: []string{"-max-token-lifetime", "876000h"}, wantErr: "-max-token-lifetime"},
		{name: "reconcile interval", env: map[string]string{"SELEKSI_RECONCILE_INTERVAL": "500ms"},
			check: func(t *testing.T, c Config) {
				if c.ReconcileInterval != 500*time.Millisecond {
					t.Errorf("ReconcileInterval = %s", c.ReconcileInterval)
				}
			}},
		{name: "reconcile interval of minutes", args: []string{"-reconcile-interval", "5m"}, wantErr: "-reconcile-interval"},
		{name: "malformed time scale in the environment", env: map[string]string{"SELEKSI_DEMO_SECONDS_PER_DAY": "fast"}, wantErr: "-demo-seconds-per-day"},
		{name: "archive interval far shorter than retention", args: []string{"-archive-interval", "5m"},
			check: func(t *testing.T, c Config) {
				if c.ArchiveInterval != 5*time.Minute {
					t.Errorf("ArchiveInterval = %s", c.ArchiveInterval)
				}
			}},
		{name: "archive interval too close to retention", args: []string{"-archive-interval", "100h"}, wantErr: "-archive-interval"},
		{name: "archive interval not a duration", env: map[string]string{"SELEKSI_ARCHIVE_INTERVAL": "often"}, wantErr: "-archive-interval"},
		// Honest errors and readiness (issue 10, items 3 and 4).
		{name: "deadlines and readiness default", check: func(t *testing.T, c Config) {
			if c.RPCTimeout != 30*time.Second || c.RPCLongTimeout != 5*time.Minute || c.ReadinessInterval != 5*time.Second || c.ReadinessTimeout != 2*time.Second {
				t.Errorf("got %s %s %s %s", c.RPCTimeout, c.RPCLongTimeout, c.ReadinessInterval, c.ReadinessTimeout)
			}
		}},
		{name: "deadlines and readiness set", args: []string{"-rpc-timeout", "10s", "-readiness-interval", "1s"},
			env: map[string]string{"SELEKSI_RPC_LONG_TIMEOUT": "20m", "SELEKSI_READINESS_TIMEOUT": "500ms"},
			check: func(t *testing.T, c Config) {
				if c.RPCTimeout != 10*time.Second || c.RPCLongTimeout != 20*time.Minute || c.ReadinessInterval != time.Second || c.ReadinessTimeout != 500*time.Millisecond {
					t.Errorf("got %s %s %s %s", c.RPCTimeout, c.RPCLongTimeout, c.ReadinessInterval, c.ReadinessTimeout)
				}
			}},
		{name: "long deadline shorter than the default one", args: []string{"-rpc-timeout", "2m", "-rpc-long-timeout", "1m"}, wantErr: "-rpc-long-timeout"},
		{name: "no deadline", args: []string{"-rpc-timeout", "0s"}, wantErr: "-rpc-timeout"},
		{name: "readiness interval not a duration", env: map[string]string{"SELEKSI_READINESS_INTERVAL": "often"}, wantErr: "-readiness-interval"},
		{name: "unknown mode", args: []string{"-mode", "both"}, wantErr: `-mode "both"`},
		{name: "split mode needs an external cluster", args: []string{"-mode", "api"}, wantErr: "needs -temporal-address"},
		{name: "retention below a day", args: []string{"-temporal-retention", "1h"}, wantErr: "-temporal-retention"},
		{name: "bad shutdown timeout", env: map[string]string{"SELEKSI_SHUTDOWN_TIMEOUT": "soon"}, wantErr: "-shutdown-timeout"},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantErr: "-log-level"},
		{name: "bad database URL", args: []string{"-database-url", "mysql://x"}, wantErr: "-database-url"},
		// Edge limits (issue 10, items 1 and 2).
		{name: "edge limits by default", check: func(t *testing.T, c Config) {
			want := ratelimit.Policy{
				AddressReads: ratelimit.Rate{Events: 100, Per: 10 * time.Second}, AddressMutations: ratelimit.Rate{Events: 120, Per: time.Minute},
				AuthFailures: ratelimit.Rate{Events: 20, Per: time.Minute},
				SubjectReads: ratelimit.Rate{Events: 100, Per: 10 * time.Second}, SubjectMutations: ratelimit.Rate{Events: 30, Per: time.Minute},
			}
			if c.RateLimits != want || c.MaxRequestBytes != 1<<20 || c.HTTPReadTimeout != 30*time.Second || len(c.TrustedProxies) != 0 {
				t.Errorf("got %+v, %d, %s, %v", c.RateLimits, c.MaxRequestBytes, c.HTTPReadTimeout, c.TrustedProxies)
			}
		}},
		{name: "edge limits set", args: []string{"-rate-limit-subject-reads", "off", "-max-request-bytes", "65536", "-trusted-proxies", "10.0.0.0/8,192.0.2.7"},
			env: map[string]string{"SELEKSI_RATE_LIMIT_ADDRESS_READS": "5/1s", "SELEKSI_HTTP_READ_TIMEOUT": "1m"},
			check: func(t *testing.T, c Config) {
				if !c.RateLimits.SubjectReads.Off() || c.RateLimits.AddressReads != (ratelimit.Rate{Events: 5, Per: time.Second}) ||
					c.MaxRequestBytes != 65536 || c.HTTPReadTimeout != time.Minute || len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.0.2.7/32" {
					t.Errorf("got %+v %d %s %v", c.RateLimits, c.MaxRequestBytes, c.HTTPReadTimeout, c.TrustedProxies)
				}
			}},
		{name: "rate limits off", env: map[string]string{"SELEKSI_RATE_LIMITS": "false"},
			check: func(t *testing.T, c Config) {
				if c.RateLimits != (ratelimit.Policy{}) {
					t.Errorf("got %+v", c.RateLimits)
				}
			}},
		{name: "bad rate", args: []string{"-rate-limit-auth-failures", "many"}, wantErr: "-rate-limit-auth-failures"},
		{name: "bad rate switch", env: map[string]string{"SELEKSI_RATE_LIMITS": "sometimes"}, wantErr: "SELEKSI_RATE_LIMITS"},
		{name: "tiny body limit", args: []string{"-max-request-bytes", "10"}, wantErr: "-max-request-bytes"},
		{name: "bad read timeout", args: []string{"-http-read-timeout", "1ms"}, wantErr: "-http-read-timeout"},
		{name: "bad trusted proxy", args: []string{"-trusted-proxies", "ingress.local"}, wantErr: "-trusted-proxies"},
		// The migration Job (issue 14).
		{name: "migrate only by flag", args: []string{"-migrate-only", "-database-url", "postgres://u@h/db"},
			check: func(t *testing.T, c Config) {
				if !c.MigrateOnly || c.StoreURL() != "postgres://u@h/db" {
					t.Errorf("got MigrateOnly=%v store %s", c.MigrateOnly, c.StoreURL())
				}
			}},
		{name: "migrate only by environment", env: map[string]string{"SELEKSI_MIGRATE_ONLY": "true"},
			check: func(t *testing.T, c Config) {
				if !c.MigrateOnly {
					t.Error("SELEKSI_MIGRATE_ONLY=true did not set MigrateOnly")
				}
			}},
		{name: "serving by default", check: func(t *testing.T, c Config) {
			if c.MigrateOnly {
				t.Error("MigrateOnly on by default")
			}
		}},
		{name: "bad migrate-only switch", env: map[string]string{"SELEKSI_MIGRATE_ONLY": "yes please"}, wantErr: "SELEKSI_MIGRATE_ONLY"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected arguments: serve"},
		{name: "unknown flag", args: []string{"-port", "1"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestUsageDocumentsEveryEnvironmentVariable(t *testing.T) {
	var out strings.Builder
	_, _ = Parse([]string{"-h"}, func(string) string { return "" }, &out)
	for _, v := range []string{"SELEKSI_MODE", "SELEKSI_DATA_DIR", "SELEKSI_GRPC_ADDR", "SELEKSI_HTTP_ADDR", "SELEKSI_TEMPORAL_ADDRESS",
		"SELEKSI_TEMPORAL_NAMESPACE", "SELEKSI_DATABASE_URL", "SELEKSI_EMBEDDED_TEMPORAL_UI_ADDR", "SELEKSI_SHUTDOWN_TIMEOUT",
		"SELEKSI_DOCUMENTS_STORE", "SELEKSI_DOCUMENTS_DIR", "SELEKSI_S3_ENDPOINT", "SELEKSI_S3_BUCKET", "SELEKSI_S3_REGION",
		"SELEKSI_S3_PREFIX", "SELEKSI_S3_TLS", "SELEKSI_S3_ACCESS_KEY", "SELEKSI_S3_SECRET_KEY",
		"SELEKSI_DOCUMENT_RETENTION", "SELEKSI_DOCUMENT_ERASURE_INTERVAL",
		"SELEKSI_OIDC_CLIENT_ID", "SELEKSI_OIDC_CLIENT_SECRET", "SELEKSI_OIDC_CLIENT_SECRET_FILE", "SELEKSI_OIDC_REDIRECT_URL",
		"SELEKSI_OIDC_SCOPES", "SELEKSI_OIDC_ROLE_CLAIM", "SELEKSI_OIDC_ROLE_MAP", "SELEKSI_OIDC_DEFAULT_ROLE", "SELEKSI_OIDC_SELECTIONS_CLAIM",
		"SELEKSI_METRICS_ADDR", "SELEKSI_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("usage does not mention %s", v)
		}
	}
}

// TestOutboxFlags: the outbox's settings have working defaults, come from flags or the
// environment, and are refused with the flag's name when out of range.
func TestOutboxFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := Parse(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Outbox{Interval: 2 * time.Second, BatchSize: 100, Concurrency: 4, MaxAttempts: 20,
		BackoffInitial: 10 * time.Second, BackoffMax: 30 * time.Minute, SendTimeout: 30 * time.Second}
	if c.Outbox != want {
		t.Errorf("defaults = %+v, want %+v", c.Outbox, want)
	}
	c, err = Parse([]string{"-notify-batch", "250", "-notify-backoff", "1s"},
		func(k string) string { return map[string]string{"SELEKSI_NOTIFY_MAX_ATTEMPTS": "5"}[k] }, io.Discard)
	if err != nil || c.Outbox.BatchSize != 250 || c.Outbox.BackoffInitial != time.Second || c.Outbox.MaxAttempts != 5 {
		t.Errorf("set = %+v, %v", c.Outbox, err)
	}
	for _, args := range [][]string{
		{"-notify-batch", "0"}, {"-notify-concurrency", "x"}, {"-notify-max-attempts", "-1"},
		{"-notify-backoff", "1h", "-notify-backoff-max", "1m"}, {"-notify-send-timeout", "0s"}, {"-notify-interval", "1h"},
	} {
		if _, err := Parse(args, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), args[len(args)-2]) {
			t.Errorf("%v: error %v, want one naming %s", args, err, args[len(args)-2])
		}
	}
}

// TestDocumentStorage: the document store is a directory under the data directory unless
// S3 is chosen; S3 needs its endpoint, bucket and keys, and the keys come from the
// environment only and never show in a dump of the configuration.
func TestDocumentStorage(t *testing.T) {
	s3Env := map[string]string{
		"SELEKSI_DOCUMENTS_STORE": "s3", "SELEKSI_S3_ENDPOINT": "s3.example.go.id:9000", "SELEKSI_S3_BUCKET": "seleksi-documents",
		"SELEKSI_S3_ACCESS_KEY": "AKIAEXAMPLEKEYID", "SELEKSI_S3_SECRET_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range s3Env {
			m[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, d blob.Options)
		wantErr string
	}{
		{name: "filesystem under the data directory by default", args: []string{"-data-dir", "/var/lib/seleksi"},
			check: func(t *testing.T, d blob.Options) {
				if d.Backend != blob.BackendFS || d.Dir != "/var/lib/seleksi/documents" {
					t.Errorf("got %+v", d)
				}
			}},
		{name: "filesystem directory of its own", env: map[string]string{"SELEKSI_DOCUMENTS_DIR": "/srv/documents"},
			check: func(t *testing.T, d blob.Options) {
				if d.Dir != "/srv/documents" {
					t.Errorf("Dir = %q", d.Dir)
				}
			}},
		{name: "s3 from the environment", env: s3Env,
			check: func(t *testing.T, d blob.Options) {
				want := blob.S3Config{Endpoint: "s3.example.go.id:9000", Bucket: "seleksi-documents", TLS: true,
					AccessKey: "AKIAEXAMPLEKEYID", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
				if d.Backend != blob.BackendS3 || d.S3 != want {
					t.Errorf("got %+v", d)
				}
			}},
		{name: "s3 flags", args: []string{"-s3-region", "ap-southeast-3", "-s3-prefix", "seleksi/prod", "-s3-tls=false", "-s3-create-bucket", "-s3-bucket", "other"}, env: s3Env,
			check: func(t *testing.T, d blob.Options) {
				if d.S3.Region != "ap-southeast-3" || d.S3.Prefix != "seleksi/prod" || d.S3.TLS || !d.S3.CreateBucket || d.S3.Bucket != "other" {
					t.Errorf("got %+v", d.S3)
				}
			}},
		{name: "s3 TLS off from the environment", env: with(map[string]string{"SELEKSI_S3_TLS": "false"}),
			check: func(t *testing.T, d blob.Options) {
				if d.S3.TLS {
					t.Error("TLS on")
				}
			}},
		{name: "s3 without a bucket", env: with(map[string]string{"SELEKSI_S3_BUCKET": ""}), wantErr: "-documents-store s3 needs -s3-endpoint and -s3-bucket"},
		{name: "s3 without an endpoint", args: []string{"-documents-store", "s3"}, env: with(map[string]string{"SELEKSI_DOCUMENTS_STORE": "", "SELEKSI_S3_ENDPOINT": ""}),
			wantErr: "-documents-store s3 needs -s3-endpoint and -s3-bucket"},
		{name: "s3 without a secret key", env: with(map[string]string{"SELEKSI_S3_SECRET_KEY": ""}), wantErr: "SELEKSI_S3_ACCESS_KEY and SELEKSI_S3_SECRET_KEY"},
		{name: "s3 endpoint as a URL", args: []string{"-s3-endpoint", "https://s3.example.go.id"}, env: s3Env, wantErr: "-s3-endpoint"},
		{name: "s3 prefix out of the key alphabet", args: []string{"-s3-prefix", "Seleksi/../x"}, env: s3Env, wantErr: "-s3-prefix"},
		{name: "s3 TLS switch malformed", env: with(map[string]string{"SELEKSI_S3_TLS": "maybe"}), wantErr: "SELEKSI_S3_TLS"},
		{name: "unknown store", args: []string{"-documents-store", "gcs"}, wantErr: `-documents-store "gcs": want fs or s3`},
		{name: "keys are not flags", args: []string{"-s3-secret-key", "x"}, env: s3Env, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, c.Documents)
		})
	}

	t.Run("keys never show", func(t *testing.T) {
		c, err := Parse(nil, func(k string) string { return s3Env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c, "s3", c.Documents.S3, "secret", c.Documents.S3.SecretKey)
		slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "config", c, "s3", c.Documents.S3, "secret", c.Documents.S3.SecretKey)
		asJSON, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var usage strings.Builder
		_, _ = Parse([]string{"-h"}, func(k string) string { return s3Env[k] }, &usage)
		for _, dump := range []string{
			fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c.Documents.S3.SecretKey, c.Documents.S3.SecretKey),
			logged.String(), string(asJSON), usage.String(),
		} {
			for _, secret := range []string{s3Env["SELEKSI_S3_ACCESS_KEY"], s3Env["SELEKSI_S3_SECRET_KEY"]} {
				if strings.Contains(dump, secret) {
					t.Errorf("a key shows in %.300s", dump)
				}
			}
			if !strings.Contains(dump, "REDACTED") && !strings.Contains(dump, "SELEKSI_S3_SECRET_KEY") {
				t.Errorf("dump says nothing of the keys: %.300s", dump)
			}
		}
		if string(c.Documents.S3.SecretKey) != s3Env["SELEKSI_S3_SECRET_KEY"] {
			t.Error("the secret's value is lost")
		}
	})
}

// TestRetentionFlags: documents are kept two years by default; the retention comes from a
// flag or the environment in days or as a duration; off keeps them for good; zero, negative
// and malformed values are refused (never "erase at once"), and retentions under a day
// only with the demo time scale.
func TestRetentionFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := Parse(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Retention{Documents: DefaultDocumentRetention, Interval: time.Hour}); c.Retention != want || want.Documents != 730*24*time.Hour {
		t.Errorf("defaults = %+v, want %+v", c.Retention, want)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want Retention
	}{
		{args: []string{"-document-retention", "1825d"}, want: Retention{Documents: 1825 * 24 * time.Hour, Interval: time.Hour}},
		{env: map[string]string{"SELEKSI_DOCUMENT_RETENTION": "48h", "SELEKSI_DOCUMENT_ERASURE_INTERVAL": "10m"},
			want: Retention{Documents: 48 * time.Hour, Interval: 10 * time.Minute}},
		{args: []string{"-document-retention", "off"}, want: Retention{Documents: 0, Interval: time.Hour}},
		{env: map[string]string{"SELEKSI_DOCUMENT_RETENTION": "OFF"}, want: Retention{Documents: 0, Interval: time.Hour}},
		{args: []string{"-document-retention", "2s", "-demo-seconds-per-day", "2", "-document-erasure-interval", "1s"},
			want: Retention{Documents: 2 * time.Second, Interval: time.Second}},
	} {
		c, err := Parse(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if err != nil || c.Retention != tc.want {
			t.Errorf("%v %v: %+v, %v; want %+v", tc.args, tc.env, c.Retention, err, tc.want)
		}
	}
	for _, args := range [][]string{
		{"-document-retention", "0"}, {"-document-retention", "0s"}, {"-document-retention", "0d"}, {"-document-retention", "-1d"},
		{"-document-retention", "two years"}, {"-document-retention", ""}, {"-document-retention", "2h"},
		{"-document-erasure-interval", "0s"}, {"-document-erasure-interval", "48h"},
	} {
		if _, err := Parse(args, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: error %v, want one naming %s", args, err, args[0])
		}
	}
}

// TestSignInFlags: sign-in through the OpenID provider is off by default; on, it needs the
// issuer, an absolute callback (https but on localhost), a secret from the environment or a
// file (never a flag, never printed), and a role map whose values are real roles.
func TestSignInFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := Parse(nil, noEnv, io.Discard)
	if err != nil || c.SignIn.Enabled() {
		t.Fatalf("default: %+v, %v", c.SignIn, err)
	}

	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte("s3cr3t-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	on := []string{"-oidc-issuer", "https://sso.example.go.id/realms/pemda", "-oidc-jwks-url", "https://sso.example.go.id/realms/pemda/certs",
		"-oidc-client-id", "seleksi", "-oidc-redirect-url", "https://seleksi.example.go.id/auth/oidc/callback"}
	c, err = Parse(append(on, "-oidc-client-secret-file", secretFile, "-oidc-role-claim", "realm_access.roles",
		"-oidc-role-map", "bkpsdm-sekretariat=admin, pansel=committee,cn=inspektorat=auditor",
		"-oidc-default-role", "candidate", "-oidc-selections-claim", "seleksi_selections"), noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := c.SignIn
	wantMap := map[string]auth.Role{"bkpsdm-sekretariat": auth.RoleAdmin, "pansel": auth.RoleCommittee, "cn=inspektorat": auth.RoleAuditor}
	if !s.Enabled() || s.ClientID != "seleksi" || s.ClientSecret != "s3cr3t-from-file" || s.RoleClaim != "realm_access.roles" ||
		!maps.Equal(s.RoleMap, wantMap) || s.DefaultRole != auth.RoleCandidate || s.SelectionsClaim != "seleksi_selections" ||
		!slices.Equal(s.Scopes, []string{"openid", "profile", "email"}) {
		t.Errorf("sign-in = %+v", s)
	}
	if dump := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(dump, "s3cr3t") {
		t.Errorf("the client secret shows in a dump of the configuration")
	}

	env := map[string]string{"SELEKSI_OIDC_CLIENT_SECRET": "from-env", "SELEKSI_OIDC_ROLE_MAP": "grp-a=admin",
		"SELEKSI_OIDC_SCOPES": "openid email groups"}
	c, err = Parse(append(on[:6:6], "-oidc-redirect-url", "http://localhost:8080/auth/oidc/callback"),
		func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.SignIn.ClientSecret != "from-env" || c.SignIn.RoleMap["grp-a"] != auth.RoleAdmin ||
		c.SignIn.DefaultRole != "" || c.SignIn.RoleClaim != "seleksi_role" || !slices.Equal(c.SignIn.Scopes, []string{"openid", "email", "groups"}) {
		t.Errorf("from the environment: %+v, %v", c.SignIn, err)
	}

	withSecret := func(k string) string { return map[string]string{"SELEKSI_OIDC_CLIENT_SECRET": "x"}[k] }
	for _, tc := range []struct {
		name, want string
		args       []string
		getenv     func(string) string
	}{
		{"no issuer", "-oidc-issuer", []string{"-oidc-client-id", "seleksi", "-oidc-redirect-url", "https://s.example/cb", "-oidc-default-role", "candidate"}, withSecret},
		{"no redirect", "-oidc-redirect-url", append(on[:6:6], "-oidc-default-role", "candidate"), withSecret},
		{"relative redirect", "-oidc-redirect-url", append(on[:6:6], "-oidc-redirect-url", "/auth/oidc/callback", "-oidc-default-role", "candidate"), withSecret},
		{"plain http redirect", "want https", append(on[:6:6], "-oidc-redirect-url", "http://seleksi.example.go.id/cb", "-oidc-default-role", "candidate"), withSecret},
		{"no secret", "SELEKSI_OIDC_CLIENT_SECRET", append(on, "-oidc-default-role", "candidate"), noEnv},
		{"two secrets", "give one", append(on, "-oidc-default-role", "candidate", "-oidc-client-secret-file", secretFile), withSecret},
		{"missing secret file", "-oidc-client-secret-file", append(on, "-oidc-default-role", "candidate", "-oidc-client-secret-file", secretFile+".missing"), noEnv},
		{"unknown role", "-oidc-role-map", append(on, "-oidc-role-map", "grp-a=root"), withSecret},
		{"malformed pair", "-oidc-role-map", append(on, "-oidc-role-map", "grp-a"), withSecret},
		{"two roles for a value", "both", append(on, "-oidc-role-map", "grp-a=admin,grp-a=auditor"), withSecret},
		{"unknown default role", "-oidc-default-role", append(on, "-oidc-default-role", "everyone"), withSecret},
		{"nobody can sign in", "nobody", on, withSecret},
		{"no openid scope", "-oidc-scopes", append(on, "-oidc-default-role", "candidate", "-oidc-scopes", "profile"), withSecret},
		{"settings without a client", "-oidc-client-id", []string{"-oidc-role-map", "grp-a=admin"}, noEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.args, tc.getenv, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// TestParticipantNumberFormat: the agency's format is checked at start, and a bad one names
// the flag, so a typo never reaches the first candidate's submission.
func TestParticipantNumberFormat(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := Parse(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ParticipantNumbers.Number(2026, "sel-a", 7); got != "2026-sel-a-0007" {
		t.Errorf("default format numbers %q, want 2026-sel-a-0007", got)
	}
	c, err = Parse(nil, func(k string) string {
		return map[string]string{"SELEKSI_PARTICIPANT_NUMBER_FORMAT": "JPT/{year}/{seq:3}"}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ParticipantNumbers.Number(2026, "sel-a", 7); got != "JPT/2026/007" {
		t.Errorf("configured format numbers %q, want JPT/2026/007", got)
	}
	for _, bad := range []string{"{year}", "{seq:0}", "{nip}-{seq}"} {
		if _, err := Parse([]string{"-participant-number-format", bad}, noEnv, io.Discard); err == nil ||
			!strings.Contains(err.Error(), "-participant-number-format") {
			t.Errorf("%q: error %v, want one naming -participant-number-format", bad, err)
		}
	}
}

// TestWebhookFlags: the webhook channel is off by default, takes its URL from a flag and its
// secret from the environment or a file (never a flag), never prints the secret, and refuses
// a plain-http gateway off localhost, a missing or short secret, and a secret without a URL.
func TestWebhookFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := Parse(nil, noEnv, io.Discard)
	if err != nil || c.Webhook.URL != "" || c.Webhook.Secret != "" {
		t.Fatalf("default = %+v, %v", c.Webhook, err)
	}
	const secret = "gateway-secret-0123456789"
	file := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Parse([]string{"-notify-webhook-url", "https://wa.example.go.id/hook", "-notify-webhook-secret-file", file,
		"-notify-webhook-events", "SubmitApplication, status.eliminated"}, noEnv, io.Discard)
	if err != nil || c.Webhook.URL != "https://wa.example.go.id/hook" || string(c.Webhook.Secret) != secret ||
		!slices.Equal(c.Webhook.Events, []string{"SubmitApplication", "status.eliminated"}) {
		t.Fatalf("from a file = %+v, %v", c.Webhook, err)
	}
	if dump := fmt.Sprintf("%+v %#v", c.Webhook, c.Webhook); strings.Contains(dump, secret) {
		t.Errorf("the secret prints itself: %s", dump)
	}
	fromEnv := func(k string) string {
		return map[string]string{"SELEKSI_NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9000/hook", "SELEKSI_NOTIFY_WEBHOOK_SECRET": secret}[k]
	}
	if c, err = Parse(nil, fromEnv, io.Discard); err != nil || string(c.Webhook.Secret) != secret || len(c.Webhook.Events) != 0 {
		t.Fatalf("from the environment = %+v, %v", c.Webhook, err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-notify-webhook-url", "http://wa.example.go.id/hook"}, map[string]string{"SELEKSI_NOTIFY_WEBHOOK_SECRET": secret}, "https"},
		{[]string{"-notify-webhook-url", "https://wa.example.go.id/hook"}, nil, "signing secret"},
		{[]string{"-notify-webhook-url", "https://wa.example.go.id/hook"}, map[string]string{"SELEKSI_NOTIFY_WEBHOOK_SECRET": "short"}, "signing secret"},
		{[]string{"-notify-webhook-url", "https://wa.example.go.id/hook", "-notify-webhook-secret-file", file},
			map[string]string{"SELEKSI_NOTIFY_WEBHOOK_SECRET": secret}, "give one"},
		{[]string{"-notify-webhook-events", "SubmitApplication"}, nil, "need -notify-webhook-url"},
	} {
		_, err := Parse(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: error %v, want one saying %q", tc.args, tc.env, err, tc.want)
		}
	}
}
