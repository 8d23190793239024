// Command seleksictl is Seleksi's command-line client for every role: the secretariat creates
// selections and records appointments, the committee records results and decides, candidates
// apply and object, auditors export and verify the audit trail. The commands live in
// internal/cli; this file only wires the process to them.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/bkpsdm/seleksi/internal/cli"
)

// Exit codes, as documented by 'seleksictl help'.
const (
	exitOK    = cli.ExitOK
	exitUsage = cli.ExitUsage
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line against the given environment and streams. The progress bar
// of score-sheet imports is drawn only when stderr is a terminal.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	f, isFile := stderr.(*os.File)
	app := &cli.App{
		Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv,
		Interactive: isFile && cli.IsTerminal(f),
	}
	return app.Run(ctx, args)
}
