package config

import (
	"io"
	"strings"
	"testing"
	"time"
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
		{name: "unknown mode", args: []string{"-mode", "both"}, wantErr: `-mode "both"`},
		{name: "split mode needs an external cluster", args: []string{"-mode", "api"}, wantErr: "needs -temporal-address"},
		{name: "retention below a day", args: []string{"-temporal-retention", "1h"}, wantErr: "-temporal-retention"},
		{name: "bad shutdown timeout", env: map[string]string{"SELEKSI_SHUTDOWN_TIMEOUT": "soon"}, wantErr: "-shutdown-timeout"},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantErr: "-log-level"},
		{name: "bad database URL", args: []string{"-database-url", "mysql://x"}, wantErr: "-database-url"},
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
		"SELEKSI_TEMPORAL_NAMESPACE", "SELEKSI_DATABASE_URL", "SELEKSI_EMBEDDED_TEMPORAL_UI_ADDR", "SELEKSI_SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("usage does not mention %s", v)
		}
	}
}
