// Package cli owns seleksictl's command line: parsing `seleksictl [global flags] GROUP VERB
// [args] [flags]`, turning each command into one call of the Seleksi gRPC API (with the
// caller's token, language and an idempotency key), reading the input files people write
// (selection and application YAML, CSV score sheets), printing answers as tables or JSON, and
// the exit codes scripts rely on. It talks to seleksid only through the generated clients in
// api/seleksi/v1. The offline audit commands (audit replay, audit timeline --bundle) link
// internal/audit, and with it the workflow code and the Temporal SDK's replayer, because
// replay must run the code the workers run; the binary still never links the Temporal
// server, which a test checks.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/bkpsdm/seleksi/internal/tlsconfig"
)

// App is one run of seleksictl with its surroundings made explicit, so tests can drive it
// without touching the process's real streams or environment.
type App struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment fallbacks of the flags (SELEKSI_SERVER and friends).
	Getenv func(string) string
	// Interactive reports whether Stderr is a terminal. Only then is the progress bar of a
	// score-sheet import redrawn in place; scripted runs get one final line instead, which
	// keeps their logs readable.
	Interactive bool
	// DialOptions are added to the gRPC client's options; tests use them to reach an
	// in-process server.
	DialOptions []grpc.DialOption
}

// Run executes one command line (without the program name) and returns the exit code.
func (a *App) Run(ctx context.Context, args []string) int {
	g := defaultGlobals(a.getenv)
	top := flag.NewFlagSet("seleksictl", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	g.register(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.usage(a.Stdout)
			return ExitOK
		}
		return a.report(usageErrorf("%v (run 'seleksictl help')", err), nil)
	}
	rest := top.Args()
	if len(rest) == 0 {
		a.usage(a.Stderr)
		return ExitUsage
	}
	if rest[0] == "help" {
		return a.help(rest[1:])
	}
	cmd, rest, err := findCommand(commands(), rest)
	if err != nil {
		return a.report(err, nil)
	}
	return a.exec(ctx, cmd, g, rest)
}

func (a *App) getenv(k string) string {
	if a.Getenv == nil {
		return ""
	}
	return a.Getenv(k)
}

// help answers `seleksictl help [GROUP [VERB]]`.
func (a *App) help(args []string) int {
	if len(args) == 0 {
		a.usage(a.Stdout)
		return ExitOK
	}
	cmd, rest, err := findCommand(commands(), args)
	if err != nil || len(rest) > 0 {
		if err == nil {
			err = usageErrorf("unexpected %q after %q", rest[0], cmd.path)
		}
		return a.report(err, nil)
	}
	fs, _ := cmd.flagSet(defaultGlobals(a.getenv))
	cmd.usage(a.Stdout, fs)
	return ExitOK
}

// globals are the flags every remote command takes, before the group or after the verb.
type globals struct {
	server string
	// http is seleksid's HTTP address, for what gRPC does not carry: resumable uploads.
	http    string
	token   string
	lang    string
	output  string
	timeout time.Duration
	tls     bool
	// tlsFiles are the CA, client certificate and server name of a TLS connection; any of
	// them implies tls.
	tlsFiles tlsconfig.ClientFiles
}

// Default values of the global flags when neither a flag nor the environment sets them.
const (
	defaultServer  = "localhost:9090"
	defaultHTTP    = "http://localhost:8080"
	defaultTimeout = 30 * time.Second
)

func defaultGlobals(getenv func(string) string) globals {
	g := globals{
		server:  getenv("SELEKSI_SERVER"),
		http:    getenv("SELEKSI_HTTP"),
		token:   getenv("SELEKSI_TOKEN"),
		lang:    getenv("SELEKSI_LANG"),
		output:  "table",
		timeout: defaultTimeout,
	}
	if g.server == "" {
		g.server = defaultServer
	}
	if g.http == "" {
		g.http = defaultHTTP
	}
	if g.lang == "" {
		g.lang = "id"
	}
	switch strings.ToLower(getenv("SELEKSI_TLS")) {
	case "1", "true", "yes":
		g.tls = true
	}
	g.tlsFiles = tlsconfig.ClientFiles{CAFile: getenv("SELEKSI_TLS_CA"), CertFile: getenv("SELEKSI_TLS_CERT"),
		KeyFile: getenv("SELEKSI_TLS_KEY"), ServerName: getenv("SELEKSI_TLS_SERVER_NAME")}
	return g
}

// register binds the global flags to g. It is called on the top-level flag set and again on
// each command's flag set, so `seleksictl -o json selection get s1` and `seleksictl selection
// get s1 -o json` mean the same.
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.server, "server", g.server, "gRPC address of seleksid, host:port [SELEKSI_SERVER]")
	fs.StringVar(&g.http, "http", g.http, "HTTP address of seleksid, for document uploads [SELEKSI_HTTP]")
	fs.StringVar(&g.token, "token", g.token, "bearer token sent with every call [SELEKSI_TOKEN]")
	fs.StringVar(&g.lang, "lang", g.lang, "language of the server's messages and status texts: id or en [SELEKSI_LANG]")
	fs.StringVar(&g.output, "o", g.output, "output format: table or json")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "deadline of each call to the server")
	fs.BoolVar(&g.tls, "tls", g.tls, "use TLS, trusting the system's root certificates unless --tls-ca is given [SELEKSI_TLS]")
	fs.StringVar(&g.tlsFiles.CAFile, "tls-ca", g.tlsFiles.CAFile, "PEM file of the authorities of seleksid's certificate; implies --tls [SELEKSI_TLS_CA]")
	fs.StringVar(&g.tlsFiles.CertFile, "tls-cert", g.tlsFiles.CertFile, "PEM client certificate, for a seleksid that requires one; implies --tls [SELEKSI_TLS_CERT]")
	fs.StringVar(&g.tlsFiles.KeyFile, "tls-key", g.tlsFiles.KeyFile, "PEM private key of --tls-cert [SELEKSI_TLS_KEY]")
	fs.StringVar(&g.tlsFiles.ServerName, "tls-server-name", g.tlsFiles.ServerName, "name on seleksid's certificate, when --server does not carry it; implies --tls [SELEKSI_TLS_SERVER_NAME]")
}

func (g *globals) check() error {
	switch g.lang {
	case "id", "en":
	default:
		return usageErrorf("--lang must be id or en, not %q", g.lang)
	}
	switch g.output {
	case "table", "json":
	default:
		return usageErrorf("-o must be table or json, not %q", g.output)
	}
	if g.timeout <= 0 {
		return usageErrorf("--timeout must be positive")
	}
	if g.server == "" {
		return usageErrorf("--server must not be empty")
	}
	if u, err := url.Parse(g.http); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("--http must be an http:// or https:// address, not %q", g.http)
	}
	if g.tlsFiles != (tlsconfig.ClientFiles{}) {
		g.tls = true
	}
	if (g.tlsFiles.CertFile == "") != (g.tlsFiles.KeyFile == "") {
		return usageErrorf("--tls-cert and --tls-key go together")
	}
	// A token pasted with its scheme would otherwise be sent as "Bearer Bearer ...".
	g.token = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(g.token), "Bearer "))
	return nil
}

// IsTerminal reports whether f is a character device, the stdlib's way of telling a
// terminal from a pipe or a file without pulling in a terminal library.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (a *App) usage(w io.Writer) {
	fmt.Fprint(w, `Usage: seleksictl [global flags] GROUP VERB [args] [flags]

seleksictl is the command-line client of Seleksi, the open selection for JPT Pratama posts.

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-22s %s\n", c.path, c.summary)
	}
	fmt.Fprint(w, `
Global flags (also accepted after the verb):
  --server host:port   gRPC address of seleksid (env SELEKSI_SERVER, default localhost:9090)
  --http URL           HTTP address of seleksid, for document uploads (env SELEKSI_HTTP,
                       default http://localhost:8080)
  --token TOKEN        bearer token (env SELEKSI_TOKEN): a personal access token (skp_...)
                       made on the web application's page /akun/token, or, for operators on
                       seleksid's machine, one minted with 'seleksictl token'
  --lang id|en         language of messages and status texts (env SELEKSI_LANG, default id)
  -o table|json        output: aligned tables for people, or the response message as JSON
  --timeout 30s        deadline of each call to the server
  --tls                connect with TLS (env SELEKSI_TLS=1), trusting the system's roots
  --tls-ca FILE        trust the authorities in FILE instead (env SELEKSI_TLS_CA)
  --tls-cert FILE      client certificate and its key, for a seleksid that requires one
  --tls-key FILE       (env SELEKSI_TLS_CERT, SELEKSI_TLS_KEY)
  --tls-server-name N  name on seleksid's certificate (env SELEKSI_TLS_SERVER_NAME)
                       Each --tls-* flag implies --tls; they apply to --http too.

Commands that change something send a request ID (--request-id, default a fresh random one)
and print it on stderr: running the command again with the same --request-id applies it once.

Exit codes:
  0  success
  1  failure: the server failed or could not be reached
  2  usage error: bad flags, arguments or input file (also the server's INVALID_ARGUMENT)
  3  verification found problems (audit verify, audit export, audit replay, audit timeline)
  4  not found
  5  unauthenticated or permission denied
  6  failed precondition or conflict: wrong stage, closed window, already exists

Stages are named by enum (STAGE_COMPETENCY_TEST) or slug (competency-test): announcement,
administrative-screening, competency-test, interview, committee-decision.

Run 'seleksictl help GROUP VERB' or 'seleksictl GROUP VERB -h' for a command's flags.
`)
}
