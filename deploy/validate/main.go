package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", ".", "the repository's root directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	deploy := filepath.Join(*root, "deploy")

	var problems []error
	set, err := LoadManifests(filepath.Join(deploy, "kubernetes"))
	if err != nil {
		problems = append(problems, err)
	} else {
		problems = append(problems, CheckManifests(set)...)
		fmt.Fprintf(stdout, "kubernetes: %d objects in %d files\n", len(set.Objects), set.Files)
	}
	gomod, gomodErr := os.ReadFile(filepath.Join(*root, "go.mod"))
	if gomodErr != nil {
		problems = append(problems, gomodErr)
	}
	compose, err := LoadCompose(ctx, filepath.Join(deploy, "compose.yaml"), ComposeEnv)
	if err != nil {
		problems = append(problems, err)
	} else {
		problems = append(problems, CheckCompose(compose, string(gomod))...)
		fmt.Fprintf(stdout, "compose: %d services\n", len(compose.Services))
	}
	dockerfile, err := os.ReadFile(filepath.Join(deploy, "Dockerfile"))
	if err != nil {
		problems = append(problems, err)
	}
	if dockerfile != nil && gomod != nil {
		problems = append(problems, CheckDockerfile(string(dockerfile), string(gomod))...)
		fmt.Fprintln(stdout, "Dockerfile: checked")
	}

	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "%d problems in deploy/\n", len(problems))
		return 1
	}
	fmt.Fprintln(stdout, "deploy/ is valid")
	return 0
}
