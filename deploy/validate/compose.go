package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// ComposeEnv stands in for the operator's .env file: every variable compose.yaml requires
// (${NAME:?...}), with a dummy value. The validator passes nothing else, so a new required
// variable fails here until it is listed (and documented in deploy/README.md).
var ComposeEnv = map[string]string{
	"SELEKSI_DB_PASSWORD":           "dummy",
	"TEMPORAL_DB_PASSWORD":          "dummy",
	"SELEKSI_S3_ACCESS_KEY":         "dummy",
	"SELEKSI_S3_SECRET_KEY":         "dummy",
	"SELEKSI_KEYS_HOST_DIR":         "/srv/seleksi/keys",
	"SELEKSI_PAYLOAD_KEYS_HOST_DIR": "/srv/seleksi/payload-keys",
}

// LoadCompose loads a Compose file as Docker Compose does (interpolation, merge keys,
// validation against the Compose specification's JSON schema, consistency of references
// between services, networks, volumes and configs), with env as the only environment.
func LoadCompose(ctx context.Context, path string, env map[string]string) (*types.Project, error) {
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithName("seleksi"),
		cli.WithWorkingDirectory(filepath.Dir(path)),
		cli.WithEnv(envList),
	)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose: %s: %w", path, err)
	}
	return p, nil
}

// seleksidServices are the services that run the image built from deploy/Dockerfile.
func seleksidServices(p *types.Project) []types.ServiceConfig {
	var out []types.ServiceConfig
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range p.Services {
			if !yield(n) {
				return
			}
		}
	}) {
		s := p.Services[name]
		if s.Build != nil && strings.HasSuffix(s.Build.Dockerfile, "deploy/Dockerfile") {
			out = append(out, s)
		}
	}
	return out
}

var goModTemporal = regexp.MustCompile(`(?m)^\s*go\.temporal\.io/server v(\S+)`)

// CheckCompose holds a loaded Compose project to the rules of a production-shaped run: API and
// workers at least two each, started after the migration; seleksid read-only and given time
// to shut down; healthy-conditions only on services with a health check; every image pinned,
// and Temporal's server and schema tool at the version go.mod builds against.
func CheckCompose(p *types.Project, gomod string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("compose: "+format, args...)) }

	seleksid := seleksidServices(p)
	if len(seleksid) == 0 {
		add("no service builds deploy/Dockerfile")
	}
	images := map[string]bool{}
	for _, s := range seleksid {
		images[s.Image] = true
		if !s.ReadOnly {
			add("service %s: read_only is not true", s.Name)
		}
		if s.User == "root" || s.User == "0" || strings.HasPrefix(s.User, "0:") {
			add("service %s runs as root", s.Name)
		}
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) < 35*time.Second {
			add("service %s: stop_grace_period under 35 s cuts seleksid's 30 s shutdown short", s.Name)
		}
	}
	if len(images) > 1 {
		add("seleksid services use different images: %v", slices.Sorted(func(yield func(string) bool) {
			for i := range images {
				if !yield(i) {
					return
				}
			}
		}))
	}
	for _, name := range []string{"api", "worker"} {
		s, ok := p.Services[name]
		if !ok {
			add("no %s service", name)
			continue
		}
		if n := s.GetScale(); n < 2 {
			add("service %s: %d replica(s), want at least 2", name, n)
		}
		if dep, ok := s.DependsOn["migrate"]; !ok || dep.Condition != types.ServiceConditionCompletedSuccessfully {
			add("service %s does not wait for the migration to complete", name)
		}
	}
	if m, ok := p.Services["migrate"]; !ok || !slices.Contains([]string(m.Command), "-migrate-only") {
		add("no migrate service running seleksid -migrate-only")
	}

	var temporalVersion string
	if m := goModTemporal.FindStringSubmatch(gomod); m != nil {
		temporalVersion = m[1]
	}
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionHealthy {
				if t, ok := p.Services[dep]; !ok || t.HealthCheck == nil || t.HealthCheck.Disable {
					add("service %s waits for %s to be healthy, but %s has no health check", name, dep, dep)
				}
			}
		}
		if s.Build != nil {
			continue
		}
		repo, tag, ok := strings.Cut(s.Image[strings.LastIndex(s.Image, "/")+1:], ":")
		if !ok || tag == "" || tag == "latest" {
			add("service %s: image %q is not pinned to a release", name, s.Image)
			continue
		}
		if (repo == "server" || repo == "admin-tools") && strings.HasPrefix(s.Image, "temporalio/") && temporalVersion != "" && tag != temporalVersion {
			add("service %s: image %s, but go.mod builds against go.temporal.io/server v%s: keep them in step", name, s.Image, temporalVersion)
		}
	}
	return errs
}
