package main

import (
	"context"
	"errors"

	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployIsValid: the committed deploy/ passes every check.
func TestDeployIsValid(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"-root", "../.."}, &out, &errOut); code != 0 {
		t.Fatalf("validate exited %d:\n%s%s", code, out.String(), errOut.String())
	}
}

// copyTree copies dir into a temporary directory, replacing old by new (once) in file.
func copyTree(t *testing.T, dir, file, old, new string) string {
	t.Helper()
	dst := t.TempDir()
	replaced := file == ""
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if filepath.ToSlash(rel) == file {
			if !strings.Contains(string(raw), old) {
				t.Fatalf("%s does not contain %q: the test no longer fits the manifest", file, old)
			}
			raw = []byte(strings.Replace(string(raw), old, new, 1))
			replaced = true
		}
		return os.WriteFile(filepath.Join(dst, rel), raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !replaced {
		t.Fatalf("no file %s", file)
	}
	return dst
}

func manifestProblems(t *testing.T, file, old, new string) string {
	t.Helper()
	set, err := LoadManifests(copyTree(t, "../kubernetes", file, old, new))
	if err != nil {
		return err.Error()
	}
	return errors.Join(CheckManifests(set)...).Error()
}

// TestManifestRules: each rule catches the mistake it is there for.
func TestManifestRules(t *testing.T) {
	const api = "seleksi.yaml"
	tests := []struct {
		name, file, old, new, want string
	}{
		{"API without readiness", api, "          readinessProbe: { httpGet: { path: /readyz, port: http }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 }\n", "", `no readinessProbe on /readyz (got "")`},
		{"metrics port only needs no probes", api, "ports: [{ name: metrics, containerPort: 9464 }]", "ports: [{ name: http, containerPort: 9464 }]", `container "seleksid" serves but has no readinessProbe`},
		{"misspelt field", api, "readinessProbe:", "readynessProbe:", `unknown field "readynessProbe"`},
		{"key given twice", api, "replicas: 2\n", "replicas: 2\n  replicas: 3\n", "already set in map"},
		{"unknown kind", api, "apiVersion: v1\nkind: ServiceAccount", "apiVersion: v1\nkind: Pod", `kind "Pod" is not one the validator knows`},
		{"writable root filesystem", api, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem is not true"},
		{"root allowed", api, "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot is not true"},
		{"capabilities kept", api, `capabilities: { drop: ["ALL"] }`, `capabilities: { drop: ["NET_RAW"] }`, "capabilities must drop ALL"},
		{"readiness on liveness path", api, "readinessProbe: { httpGet: { path: /readyz", "readinessProbe: { httpGet: { path: /healthz", `no readinessProbe on /readyz (got "/healthz")`},
		{"liveness follows dependencies", api, "livenessProbe: { httpGet: { path: /healthz", "livenessProbe: { httpGet: { path: /readyz", "liveness must not follow"},
		{"probe on an undeclared port", api, "startupProbe: { httpGet: { path: /healthz, port: http }", "startupProbe: { httpGet: { path: /healthz, port: 8081 }", "startupProbe targets port 8081"},
		{"exec needs a shell", api, "preStop: { sleep: { seconds: 5 } }", `preStop: { exec: { command: ["sleep", "5"] } }`, "preStop runs a command"},
		{"latest image", api, "image: seleksi/seleksid:1.0.0-cluster", "image: seleksi/seleksid:latest", `image "seleksi/seleksid:latest" is not pinned`},
		{"image skew", api, "image: seleksi/seleksid:1.0.0-cluster", "image: seleksi/seleksid:1.0.1-cluster", "containers run different images"},
		{"no memory limit", api, "limits: { memory: 1Gi, ephemeral-storage: 4Gi }", "limits: { ephemeral-storage: 4Gi }", `container "seleksid" has no memory limit`},
		{"no CPU request", api, "requests: { cpu: 250m, memory: 256Mi, ephemeral-storage: 256Mi }", "requests: { memory: 256Mi }", "has no cpu request"},
		{"unbounded emptyDir", api, "emptyDir: { sizeLimit: 3Gi }", "emptyDir: {}", "emptyDir without sizeLimit"},
		{"missing Secret", api, "name: seleksi-s3, key: access-key", "name: seleksi-s4, key: access-key", `reads Secret "seleksi-s4", which is not defined`},
		{"missing Secret key", api, "name: seleksi-store, key: url", "name: seleksi-store, key: dsn", `reads key "dsn", which Secret "seleksi-store" does not have`},
		{"missing ConfigMap", "jobs/migrate.yaml", "            - name: SELEKSI_LOG_FORMAT\n              value: json", "            - name: SELEKSI_LOG_FORMAT\n              valueFrom: { configMapKeyRef: { name: seleksi-logging, key: format } }", `reads ConfigMap "seleksi-logging", which is not defined`},
		{"missing ConfigMap key", "jobs/migrate.yaml", "            - name: SELEKSI_LOG_FORMAT\n              value: json", "            - name: SELEKSI_LOG_FORMAT\n              valueFrom: { configMapKeyRef: { name: seleksi, key: SELEKSI_LOG_FROMAT } }", `reads key "SELEKSI_LOG_FROMAT", which ConfigMap "seleksi" does not have`},
		{"missing volume", api, "- { name: tmp, mountPath: /tmp }", "- { name: scratch, mountPath: /tmp }", `mounts volume "scratch", which the pod does not define`},
		{"writable Secret mount", api, "mountPath: /etc/seleksi/keys, readOnly: true", "mountPath: /etc/seleksi/keys", `mounts Secret volume "keys" writable`},
		{"token mounted", api, "automountServiceAccountToken: false\n      enableServiceLinks", "automountServiceAccountToken: true\n      enableServiceLinks", "automountServiceAccountToken is not false"},
		{"single replica", api, "replicas: 2", "replicas: 1", "replicas: want at least 2"},
		{"selector misses the pods", api, "matchLabels: { app.kubernetes.io/name: seleksi, app.kubernetes.io/component: api }\n  template", "matchLabels: { app.kubernetes.io/name: seleksi, app.kubernetes.io/component: web }\n  template", "does not match the pod template's labels"},
		{"Service on an undeclared port", api, "targetPort: grpc", "targetPort: grpcs", `targets grpcs, which the selected pods do not declare`},
		{"Service selects nothing", api, "selector: { app.kubernetes.io/name: seleksi, app.kubernetes.io/component: api }\n  # A resumable", "selector: { app.kubernetes.io/name: seleksi, app.kubernetes.io/component: apis }\n  # A resumable", "matches no Deployment's pods"},
		{"drain-blocking budget", api, "minAvailable: 1", "minAvailable: 2", "minAvailable 2 with 2 replicas"},
		{"no budget", api, "maxUnavailable: 1\n  selector:\n    matchLabels: { app.kubernetes.io/name: seleksi, app.kubernetes.io/component: worker }", "maxUnavailable: 1\n  selector:\n    matchLabels: { app.kubernetes.io/name: seleksi, app.kubernetes.io/component: api }", "several PodDisruptionBudgets cover its pods"},
		{"no grace period", api, "terminationGracePeriodSeconds: 40", "activeDeadlineSeconds: 40", "no terminationGracePeriodSeconds"},
		{"Job retrying for ever", "jobs/migrate.yaml", "  backoffLimit: 2\n", "", "needs a backoffLimit"},
		{"Job restarting", "jobs/migrate.yaml", "restartPolicy: Never", "restartPolicy: Always", `restartPolicy "Always"`},
		{"committed secret value", "examples/secrets.yaml", "access-key: CHANGE-ME", "access-key: AKIAIOSFODNN7EXAMPLE", `stringData "access-key" holds a value`},
		{"committed secret data", "examples/secrets.yaml", "type: Opaque\nstringData:\n  access-key", "type: Opaque\ndata: { x: eA== }\nstringData:\n  access-key", "holds data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := manifestProblems(t, tt.file, tt.old, tt.new)
			if !strings.Contains(got, tt.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
}

func composeProblems(t *testing.T, old, new string, env map[string]string) string {
	t.Helper()
	dir := copyTree(t, "..", "compose.yaml", old, new)
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadCompose(context.Background(), filepath.Join(dir, "compose.yaml"), env)
	if err != nil {
		return err.Error()
	}
	return errors.Join(CheckCompose(p, string(gomod))...).Error()
}

// TestComposeRules: the Compose checks, the specification's schema included, catch their
// mistakes.
func TestComposeRules(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"field outside the specification", "stop_grace_period: 40s", "stop_grace_periods: 40s", "stop_grace_periods"},
		{"one API replica", "command: [\"-mode\", \"api\"]\n    deploy: { replicas: 2 }", "command: [\"-mode\", \"api\"]\n    deploy: { replicas: 1 }", "service api: 1 replica(s)"},
		{"writable root", "read_only: true", "read_only: false", "read_only is not true"},
		{"short grace", "stop_grace_period: 40s", "stop_grace_period: 10s", "stop_grace_period under 35 s"},
		{"no migration first", "migrate: { condition: service_completed_successfully }", "migrate: { condition: service_started }", "does not wait for the migration"},
		{"healthy without a health check", "s3: { condition: service_started }", "s3: { condition: service_healthy }", "s3 has no health check"},
		{"Temporal ahead of go.mod", "image: temporalio/server:1.32.1", "image: temporalio/server:1.33.0", "keep them in step"},
		{"unpinned image", "image: postgres:16\n    restart: unless-stopped\n    environment:\n      POSTGRES_USER: temporal", "image: postgres\n    restart: unless-stopped\n    environment:\n      POSTGRES_USER: temporal", `image "postgres" is not pinned`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := composeProblems(t, tt.old, tt.new, ComposeEnv)
			if !strings.Contains(got, tt.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
	// Compose refuses to start without the secrets: each required variable is required.
	for name := range ComposeEnv {
		t.Run("without "+name, func(t *testing.T) {
			env := maps.Clone(ComposeEnv)
			delete(env, name)
			got := composeProblems(t, "", "", env)
			if !strings.Contains(got, name) {
				t.Errorf("loading without %s: %q, want an error naming it", name, got)
			}
		})
	}
}

// TestDockerfileRules: the Dockerfile checks catch their mistakes.
func TestDockerfileRules(t *testing.T) {
	src, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new, want string
	}{
		{"cgo", "CGO_ENABLED=0 go build -trimpath -buildvcs=false -tags", "go build -trimpath -buildvcs=false -tags", "without CGO_ENABLED=0"},
		{"toolchain behind go.mod", "ARG GO_VERSION=", "ARG GO_VERSION=1.0.0\nARG X=", "GO_VERSION 1.0.0, but go.mod says"},
		{"root", "USER 65532:65532", "USER root", `runs as root (USER "root")`},
		{"no user", "USER 65532:65532", "", "runs as root"},
		{"a full OS", "FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:bookworm-slim", `final stage "debian:bookworm-slim"`},
		{"shell entrypoint", `ENTRYPOINT ["/usr/local/bin/seleksid"]`, "ENTRYPOINT /usr/local/bin/seleksid", "not in exec form"},
	}
	if errs := CheckDockerfile(string(src), string(gomod)); len(errs) > 0 {
		t.Fatalf("the committed Dockerfile: %v", errs)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(src), tt.old) {
				t.Fatalf("the Dockerfile does not contain %q", tt.old)
			}
			got := errors.Join(CheckDockerfile(strings.Replace(string(src), tt.old, tt.new, 1), string(gomod))...)
			if got == nil || !strings.Contains(got.Error(), tt.want) {
				t.Errorf("problems: %v, want one containing %q", got, tt.want)
			}
		})
	}
}
