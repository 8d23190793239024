package main

import (
	"fmt"
	"regexp"
	"strings"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Line int
	Cmd  string // upper case: FROM, RUN...
	Args string
}

func parseDockerfile(src string) []instruction {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		} else if strings.HasPrefix(t, "#") {
			continue
		}
		if body, ok := strings.CutSuffix(t, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(t)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

var goDirective = regexp.MustCompile(`(?m)^go (\S+)`)

// CheckDockerfile holds deploy/Dockerfile to what the deployment relies on: a Go toolchain
// in step with go.mod, a static (CGO-free) build, a distroless or scratch final stage with a
// non-root user, and an exec-form entrypoint (signals reach seleksid, not a shell).
func CheckDockerfile(src, gomod string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("Dockerfile: "+format, args...)) }
	ins := parseDockerfile(src)

	want := ""
	if m := goDirective.FindStringSubmatch(gomod); m != nil {
		want = m[1]
	}
	goVersion := ""
	lastFrom := -1
	for i, in := range ins {
		switch in.Cmd {
		case "ARG":
			if v, ok := strings.CutPrefix(in.Args, "GO_VERSION="); ok {
				goVersion = v
			}
		case "FROM":
			lastFrom = i
			image := strings.Fields(in.Args)[0]
			if !strings.Contains(image, ":") && image != "scratch" || strings.HasSuffix(image, ":latest") {
				add("line %d: image %q is not pinned", in.Line, image)
			}
		}
	}
	if goVersion == "" {
		add("no ARG GO_VERSION")
	} else if goVersion != want {
		add("GO_VERSION %s, but go.mod says go %s", goVersion, want)
	}
	if lastFrom < 0 {
		add("no FROM")
		return errs
	}
	final := strings.Fields(ins[lastFrom].Args)[0]
	if final != "scratch" && !strings.HasPrefix(final, "gcr.io/distroless/static") {
		add("final stage %q: want gcr.io/distroless/static or scratch (a static binary needs no OS)", final)
	}
	var user, entrypoint string
	for _, in := range ins[lastFrom:] {
		switch in.Cmd {
		case "USER":
			user = in.Args
		case "ENTRYPOINT":
			entrypoint = in.Args
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); user == "" || uid == "root" || uid == "0" {
		add("the final stage runs as root (USER %q)", user)
	}
	if !strings.HasPrefix(entrypoint, "[") {
		add("ENTRYPOINT %q is not in exec form: SIGTERM would reach a shell, not seleksid", entrypoint)
	}
	built := false
	for _, in := range ins[:lastFrom] {
		if in.Cmd != "RUN" || !strings.Contains(in.Args, "go build") {
			continue
		}
		built = true
		for _, build := range strings.Split(in.Args, "&&") {
			if strings.Contains(build, "go build") && !strings.Contains(build, "CGO_ENABLED=0") {
				add("line %d: a go build without CGO_ENABLED=0 links the C library, which the final stage does not have", in.Line)
			}
		}
	}
	if !built {
		add("no go build")
	}
	return errs
}
