// Command seleksictl is Seleksi's command-line client. This first part mints tokens for local
// use with the embedded default's signing key; the commands for each role follow.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// Exit codes scripts can rely on.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "token":
		err = tokenCmd(args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	default:
		fmt.Fprintf(stderr, "seleksictl: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "seleksictl:", err)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "seleksictl:", err)
		return exitError
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: seleksictl COMMAND [flags]

Commands:
  token   mint a bearer token with the local signing key of seleksid's data directory

Run 'seleksictl COMMAND -h' for a command's flags.
`)
}

// usageError is a mistake in the command line (exit code 2), as opposed to a failure.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func tokenCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seleksictl token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := getenv("SELEKSI_DATA_DIR")
	if dataDir == "" {
		dataDir = "data"
	}
	fs.StringVar(&dataDir, "data-dir", dataDir, "seleksid's data directory, which holds the signing key [SELEKSI_DATA_DIR]")
	role := fs.String("role", "", "admin, committee, candidate or auditor (required)")
	subject := fs.String("subject", "", "who the token is for: a member ID, a candidate's account or NIP (required)")
	var selections multiFlag
	fs.Var(&selections, "selection", "selection ID a committee member sits on (repeatable)")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return usageError{"-role: " + err.Error()}
	}
	if *subject == "" {
		return usageError{"-subject is required"}
	}
	if r == auth.RoleCommittee && len(selections) == 0 {
		return usageError{"a committee token needs at least one -selection"}
	}
	if r != auth.RoleCommittee && len(selections) > 0 {
		return usageError{"-selection applies to committee tokens only"}
	}
	key, err := auth.LoadOrCreateLocalKey(dataDir)
	if err != nil {
		return err
	}
	tok, err := key.Mint(auth.MintOptions{Subject: *subject, Role: r, Selections: selections, TTL: *ttl})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}
