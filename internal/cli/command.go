package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// command is one `GROUP VERB` (or a single word such as `status`). Flags are bound to
// variables captured by the constructor's closures, so every run builds fresh commands and
// nothing is shared between runs.
type command struct {
	path    string // "selection advance"
	args    string // synopsis of positional arguments and required flags
	summary string
	help    string // further explanation printed by -h, optional
	nargs   int    // number of positional arguments
	// optArgs lets the command take fewer than nargs positional arguments (down to none),
	// for commands whose argument a flag can replace, such as `audit timeline ID` and
	// `audit timeline --bundle FILE`; the command checks which combination it got.
	optArgs bool
	// mutating commands take --request-id and print the one they send.
	mutating bool
	// local commands never reach the server and take no global flags.
	local bool
	flags func(fs *flag.FlagSet)
	run   func(ctx context.Context, inv *invocation, args []string) error
}

// commands lists every command in the order usage shows them.
func commands() []*command {
	return []*command{
		selectionCreate(), selectionGet(), selectionList(), selectionAdvance(), selectionDecide(),
		selectionAppoint(), selectionCancel(), selectionResume(), selectionResults(),
		resultsRecord(),
		conflictDeclare(),
		applicationSubmit(), applicationGet(), applicationList(), applicationWithdraw(), statusCommand(),
		objectionFile(), objectionList(), objectionAnswer(),
		auditList(), auditExport(), auditVerify(), auditKey(), auditReplay(), auditTimeline(),
		notificationList(), notificationRetry(),
		documentUpload(), documentList(), documentGet(),
		tokenCommand(),
	}
}

// findCommand matches the longest command path at the start of args: one word for `status`
// and `token`, two for the rest.
func findCommand(cmds []*command, args []string) (*command, []string, error) {
	for _, n := range []int{2, 1} {
		if len(args) < n {
			continue
		}
		path := strings.Join(args[:n], " ")
		for _, c := range cmds {
			if c.path == path {
				return c, args[n:], nil
			}
		}
	}
	var verbs []string
	for _, c := range cmds {
		if group, verb, ok := strings.Cut(c.path, " "); ok && group == args[0] {
			verbs = append(verbs, verb)
		}
	}
	if len(verbs) > 0 {
		if len(args) == 1 {
			return nil, nil, usageErrorf("%s needs a verb: %s", args[0], strings.Join(verbs, ", "))
		}
		return nil, nil, usageErrorf("unknown command %q; %s takes %s", args[0]+" "+args[1], args[0], strings.Join(verbs, ", "))
	}
	return nil, nil, usageErrorf("unknown command %q (run 'seleksictl help')", args[0])
}

// flagSet builds the command's flags; requestID receives --request-id of mutating commands.
func (c *command) flagSet(g globals) (*flag.FlagSet, *invocation) {
	fs := flag.NewFlagSet("seleksictl "+c.path, flag.ContinueOnError)
	// Errors and help are printed by exec, so the flag package must stay silent.
	fs.SetOutput(io.Discard)
	inv := &invocation{g: g, fs: fs}
	if !c.local {
		inv.g.register(fs)
	}
	if c.mutating {
		fs.StringVar(&inv.requestID, "request-id", "",
			"idempotency key, 8 to 64 of A-Z a-z 0-9 _ -; default a fresh random one (printed on stderr)")
	}
	if c.flags != nil {
		c.flags(fs)
	}
	return fs, inv
}

func (c *command) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: seleksictl %s %s\n\n%s\n", c.path, c.args, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	// The global flags are the same for every command; 'seleksictl help' lists them.
	global := map[string]bool{}
	if !c.local {
		var g globals
		gs := flag.NewFlagSet("", flag.ContinueOnError)
		g.register(gs)
		gs.VisitAll(func(f *flag.Flag) { global[f.Name] = true })
	}
	fmt.Fprintln(w, "\nFlags:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		if global[f.Name] {
			return
		}
		arg, usage := flag.UnquoteUsage(f)
		if arg == "string" || arg == "value" {
			arg = strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  %s%s %s\t%s%s\n", dash, f.Name, arg, usage, def)
	})
	_ = tw.Flush()
	if !c.local {
		fmt.Fprintln(w, "\nGlobal flags (--server, --http, --token, --lang, -o, --timeout, --tls): see 'seleksictl help'.")
		fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure, 2 usage, 3 verification problems, 4 not found, 5 denied, 6 precondition/conflict.")
	}
}

// exec parses the command's flags and arguments, connects and runs it.
func (a *App) exec(ctx context.Context, c *command, g globals, args []string) int {
	fs, inv := c.flagSet(g)
	inv.app = a
	inv.cmd = c
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(a.Stdout, fs)
		return ExitOK
	}
	if err != nil {
		return a.report(usageErrorf("%s: %v (run 'seleksictl %s -h')", c.path, err, c.path), nil)
	}
	if len(pos) > c.nargs || (!c.optArgs && len(pos) != c.nargs) {
		return a.report(usageErrorf("usage: seleksictl %s %s", c.path, c.args), nil)
	}
	if !c.local {
		if err := inv.g.check(); err != nil {
			return a.report(err, nil)
		}
		if err := inv.prepareRequestID(); err != nil {
			return a.report(err, nil)
		}
		if err := inv.connect(); err != nil {
			return a.report(err, inv)
		}
		defer inv.close()
	}
	return a.report(c.run(ctx, inv, pos), inv)
}

// parseInterspersed parses flags wherever they appear among the positional arguments, so
// `selection advance s1 --stage interview` works although the stdlib's flag package stops at
// the first argument that is not a flag. After `--` everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// requireFlags reports the named flags that were not given, so a missing required flag is a
// usage error naming the flag rather than a server-side validation error naming a field.
func requireFlags(fs *flag.FlagSet, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var missing []string
	for _, n := range names {
		if !set[n] {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usageErrorf("missing required flag %s", strings.Join(missing, ", "))
	}
	return nil
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}
