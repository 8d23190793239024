package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
)

func TestTokenCommand(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "SELEKSI_DATA_DIR" {
			return dir
		}
		return ""
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, p auth.Principal)
	}{
		{"committee token", []string{"token", "-role", "committee", "-subject", "m1", "-selection", "a", "-selection", "b"}, exitOK,
			func(t *testing.T, p auth.Principal) {
				if p.Role != auth.RoleCommittee || p.Subject != "m1" || !p.SitsOn("a") || !p.SitsOn("b") {
					t.Errorf("principal %+v", p)
				}
			}},
		{"candidate token", []string{"token", "-role", "candidate", "-subject", "199001012020011001"}, exitOK,
			func(t *testing.T, p auth.Principal) {
				if p.Role != auth.RoleCandidate || p.Subject != "199001012020011001" {
					t.Errorf("principal %+v", p)
				}
			}},
		{"unknown role", []string{"token", "-role", "root", "-subject", "x"}, exitUsage, nil},
		{"a hundred years", []string{"token", "-role", "admin", "-subject", "a", "-ttl", "876000h"}, exitUsage, nil},
		{"longer than the given maximum", []string{"token", "-role", "admin", "-subject", "a", "-ttl", "3h", "-max-ttl", "2h"}, exitUsage, nil},
		{"no subject", []string{"token", "-role", "admin"}, exitUsage, nil},
		{"committee without selection", []string{"token", "-role", "committee", "-subject", "m1"}, exitUsage, nil},
		{"selection on a non-committee token", []string{"token", "-role", "admin", "-subject", "a", "-selection", "x"}, exitUsage, nil},
		{"unknown command", []string{"frobnicate"}, exitUsage, nil},
		{"no command", nil, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			code := run(context.Background(), tt.args, env, &out, io.Discard)
			if code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d", code, tt.wantCode)
			}
			if tt.check == nil {
				return
			}
			key, err := auth.LoadOrCreateLocalKey(dir)
			if err != nil {
				t.Fatal(err)
			}
			p, err := key.Verifier(time.Now, 0).Verify(context.Background(), strings.TrimSpace(out.String()))
			if err != nil {
				t.Fatalf("minted token does not verify with the data directory's key: %v", err)
			}
			tt.check(t, p)
		})
	}
}
