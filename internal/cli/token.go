package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// tokenCommand mints tokens with the embedded default's local signing key. It reads the key
// from seleksid's data directory and never calls the server, so it works before seleksid is
// reachable and only where its data directory is.
func tokenCommand() *command {
	var dataDir, role, subject string
	var selections multiFlag
	var ttl, maxTTL time.Duration
	return &command{
		path: "token", args: "--role ROLE --subject S [--selection ID ...] [--ttl 12h] [--max-ttl 24h]", nargs: 0, local: true,
		summary: "mint a bearer token with the local signing key of seleksid's data directory",
		help: `For operators on seleksid's machine. People with an account make a personal access
token (skp_...) on the web application's page /akun/token instead, and use it the same way:
export SELEKSI_TOKEN=skp_...; seleksictl selection list`,
		flags: func(fs *flag.FlagSet) {
			// The flag's default comes from the environment here rather than in globals,
			// because no remote command needs the data directory.
			fs.StringVar(&dataDir, "data-dir", "", "seleksid's data directory, which holds the signing key [SELEKSI_DATA_DIR] (default data)")
			fs.StringVar(&role, "role", "", "admin, committee, candidate or auditor (required)")
			fs.StringVar(&subject, "subject", "", "who the token is for: a member ID, a candidate's account or NIP (required)")
			fs.Var(&selections, "selection", "selection ID a committee member sits on (repeatable)")
			fs.DurationVar(&ttl, "ttl", 12*time.Hour, "how long the token is valid")
			fs.DurationVar(&maxTTL, "max-ttl", 0, "the longest lifetime seleksid accepts, its -max-token-lifetime [SELEKSI_MAX_TOKEN_LIFETIME] (default 24h)")
		},
		run: func(_ context.Context, inv *invocation, _ []string) error {
			if dataDir == "" {
				dataDir = inv.app.getenv("SELEKSI_DATA_DIR")
			}
			if dataDir == "" {
				dataDir = "data"
			}
			r, err := auth.ParseRole(role)
			if err != nil {
				return usageErrorf("--role: %v", err)
			}
			if subject == "" {
				return usageErrorf("--subject is required")
			}
			if r == auth.RoleCommittee && len(selections) == 0 {
				return usageErrorf("a committee token needs at least one --selection")
			}
			if r != auth.RoleCommittee && len(selections) > 0 {
				return usageErrorf("--selection applies to committee tokens only")
			}
			if maxTTL == 0 {
				// The same variable seleksid reads, so that on its machine the two agree.
				if v := inv.app.getenv("SELEKSI_MAX_TOKEN_LIFETIME"); v != "" {
					if maxTTL, err = time.ParseDuration(v); err != nil {
						return usageErrorf("SELEKSI_MAX_TOKEN_LIFETIME %q: %v", v, err)
					}
				}
			}
			if maxTTL == 0 {
				maxTTL = auth.DefaultMaxLifetime
			}
			if ttl > maxTTL {
				return usageErrorf("--ttl %s is longer than the %s seleksid accepts (its -max-token-lifetime)", ttl, maxTTL)
			}
			key, err := auth.LoadOrCreateLocalKey(dataDir)
			if err != nil {
				return err
			}
			tok, err := key.Mint(auth.MintOptions{Subject: subject, Role: r, Selections: selections, TTL: ttl, MaxLifetime: maxTTL})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(inv.app.Stdout, tok)
			return err
		},
	}
}
