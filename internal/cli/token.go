package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/keys"
)

// tokenCommand mints tokens with seleksid's signing key: the active token-signing key of the
// key directory (--keys-dir), or the embedded default's key in its data directory. It never
// calls the server, so it works before seleksid is reachable and only where its keys are.
func tokenCommand() *command {
	var dataDir, keysDir, role, subject string
	var selections multiFlag
	var ttl, maxTTL time.Duration
	return &command{
		path: "token", args: "--role ROLE --subject S [--selection ID ...] [--ttl 12h] [--max-ttl 24h]", nargs: 0, local: true,
		summary: "mint a bearer token with seleksid's signing key (its key directory or data directory)",
		help: `For operators on seleksid's machine. People with an account make a personal access
token (skp_...) on the web application's page /akun/token instead, and use it the same way:
export SELEKSI_TOKEN=skp_...; seleksictl selection list`,
		flags: func(fs *flag.FlagSet) {
			// The flag's default comes from the environment here rather than in globals,
			// because no remote command needs the data directory.
			fs.StringVar(&dataDir, "data-dir", "", "seleksid's data directory, which holds the signing key [SELEKSI_DATA_DIR] (default data)")
			fs.StringVar(&keysDir, "keys-dir", "", "seleksid's key directory (-keys-dir): sign with its active token-signing key instead of the data directory's [SELEKSI_KEYS_DIR]")
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
			if keysDir == "" {
				keysDir = inv.app.getenv("SELEKSI_KEYS_DIR")
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
			key, err := mintingKey(keysDir, dataDir)
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

// mintingKey is the key tokens are minted with: the key directory's token keys when one is
// given (never created here: a key directory is the operator's), else the data directory's.
func mintingKey(keysDir, dataDir string) (*auth.LocalKey, error) {
	if keysDir == "" {
		return auth.LoadOrCreateLocalKey(dataDir)
	}
	d, err := keys.LoadDir(keysDir)
	if err != nil {
		return nil, err
	}
	if err := d.Require(keys.PurposeToken); err != nil {
		return nil, err
	}
	return auth.NewLocalKey(d.Token)
}
