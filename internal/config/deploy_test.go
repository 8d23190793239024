package config

import (
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// TestManifestsLeaveTimeToShutDown: Kubernetes kills a pod terminationGracePeriodSeconds after
// it starts terminating, preStop hook included, and Compose stop_grace_period after SIGTERM;
// both must leave seleksid its whole -shutdown-timeout, with a margin.
func TestManifestsLeaveTimeToShutDown(t *testing.T) {
	const margin = 5 * time.Second
	raw, err := os.ReadFile("../../deploy/kubernetes/seleksi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Args      []string `json:"args"`
		Lifecycle struct {
			PreStop struct {
				Exec struct {
					Command []string `json:"command"`
				} `json:"exec"`
				Sleep struct {
					Seconds int `json:"seconds"`
				} `json:"sleep"`
			} `json:"preStop"`
		} `json:"lifecycle"`
	}
	type doc struct {
		Kind     string                `json:"kind"`
		Metadata struct{ Name string } `json:"metadata"`
		Data     map[string]string     `json:"data"`
		Spec     struct {
			Template struct {
				Spec struct {
					Grace      *int        `json:"terminationGracePeriodSeconds"`
					Containers []container `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	var docs []doc
	timeout := 30 * time.Second // seleksid's default
	for part := range strings.SplitSeq(string(raw), "\n---\n") {
		var d doc
		if err := yaml.Unmarshal([]byte(part), &d); err != nil {
			t.Fatal(err)
		}
		if d.Kind == "ConfigMap" {
			if v, ok := d.Data["SELEKSI_SHUTDOWN_TIMEOUT"]; ok {
				if timeout, err = time.ParseDuration(v); err != nil {
					t.Fatal(err)
				}
			}
		}
		docs = append(docs, d)
	}
	deployments := 0
	for _, d := range docs {
		if d.Kind != "Deployment" {
			continue
		}
		deployments++
		spec := d.Spec.Template.Spec
		if spec.Grace == nil {
			t.Errorf("%s: no terminationGracePeriodSeconds (the default, 30 s, does not fit)", d.Metadata.Name)
			continue
		}
		var preStop time.Duration
		for _, c := range spec.Containers {
			if cmd := c.Lifecycle.PreStop.Exec.Command; len(cmd) == 2 && cmd[0] == "sleep" {
				n, err := strconv.Atoi(cmd[1])
				if err != nil {
					t.Fatal(err)
				}
				preStop = time.Duration(n) * time.Second
			}
			preStop = max(preStop, time.Duration(c.Lifecycle.PreStop.Sleep.Seconds)*time.Second)
		}
		if grace := time.Duration(*spec.Grace) * time.Second; grace < preStop+timeout+margin {
			t.Errorf("%s: grace period %s < preStop %s + shutdown timeout %s + %s", d.Metadata.Name, grace, preStop, timeout, margin)
		}
	}
	if deployments == 0 {
		t.Error("no Deployment in the manifest")
	}

	compose, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Build           any    `json:"build"`
			StopGracePeriod string `json:"stop_grace_period"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(compose, &c); err != nil {
		t.Fatal(err)
	}
	for name, svc := range c.Services {
		if svc.Build == nil {
			continue // not seleksid
		}
		grace, err := time.ParseDuration(svc.StopGracePeriod)
		if err != nil || grace < 30*time.Second+margin {
			t.Errorf("compose service %s: stop_grace_period %q, want at least %s", name, svc.StopGracePeriod, 30*time.Second+margin)
		}
	}
}

// TestManifestsConfigureDocumentStorage: the Kubernetes manifest's configuration parses into
// an S3 document store, every seleksid container gets the S3 keys from a Secret (never from
// the ConfigMap or a literal), and Compose takes them from the operator's environment.
func TestManifestsConfigureDocumentStorage(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/kubernetes/seleksi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type envVar struct {
		Name      string  `json:"name"`
		Value     *string `json:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct{ Name, Key string } `json:"secretKeyRef"`
		} `json:"valueFrom"`
	}
	type doc struct {
		Kind     string                `json:"kind"`
		Metadata struct{ Name string } `json:"metadata"`
		Data     map[string]string     `json:"data"`
		Spec     struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Args []string `json:"args"`
						Env  []envVar `json:"env"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	var docs []doc
	configMap := map[string]string{}
	for part := range strings.SplitSeq(string(raw), "\n---\n") {
		var d doc
		if err := yaml.Unmarshal([]byte(part), &d); err != nil {
			t.Fatal(err)
		}
		if d.Kind == "ConfigMap" {
			configMap = d.Data
		}
		docs = append(docs, d)
	}
	for _, k := range []string{"SELEKSI_S3_ACCESS_KEY", "SELEKSI_S3_SECRET_KEY"} {
		if _, ok := configMap[k]; ok {
			t.Errorf("%s is in the ConfigMap; keys belong in a Secret", k)
		}
	}
	containers := 0
	for _, d := range docs {
		if d.Kind != "Deployment" {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			containers++
			env := map[string]string{}
			for k, v := range configMap {
				env[k] = v
			}
			for _, e := range c.Env {
				switch {
				case e.Value != nil:
					env[e.Name] = *e.Value
				case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
					// A stand-in that also passes as the database URL, which comes from a Secret too.
					env[e.Name] = "postgres://secret/" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
				}
			}
			for _, k := range []string{"SELEKSI_S3_ACCESS_KEY", "SELEKSI_S3_SECRET_KEY"} {
				if !strings.HasPrefix(env[k], "postgres://secret/") {
					t.Errorf("%s: %s is not taken from a Secret", d.Metadata.Name, k)
				}
			}
			cfg, err := Parse(c.Args, func(k string) string { return env[k] }, io.Discard)
			if err != nil {
				t.Errorf("%s: the manifest's configuration does not parse: %v", d.Metadata.Name, err)
				continue
			}
			if cfg.Documents.Backend != "s3" || !cfg.Documents.S3.TLS || cfg.Documents.S3.CreateBucket {
				t.Errorf("%s: documents %+v, want S3 over TLS on a bucket made by the operator", d.Metadata.Name, cfg.Documents)
			}
		}
	}
	if containers == 0 {
		t.Error("no container in the manifest")
	}

	compose, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Build       any               `json:"build"`
			Environment map[string]string `json:"environment"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(compose, &c); err != nil {
		t.Fatal(err)
	}
	for name, svc := range c.Services {
		if svc.Build == nil {
			continue // not seleksid
		}
		// The bundled S3 store's endpoint and bucket are defaults; its keys are the operator's.
		for _, k := range []string{"SELEKSI_S3_ACCESS_KEY", "SELEKSI_S3_SECRET_KEY"} {
			if v := svc.Environment[k]; !strings.HasPrefix(v, "${"+k+":?") {
				t.Errorf("compose service %s: %s = %q, want a required placeholder ${%s:?...}", name, k, v, k)
			}
		}
		if v := svc.Environment["SELEKSI_DATABASE_URL"]; !strings.Contains(v, "${SELEKSI_DB_PASSWORD:?") {
			t.Errorf("compose service %s: the database URL %q does not take its password from the environment", name, v)
		}
	}
}

// TestMigrationJobParses: the migration Job's command line and environment parse into a
// migrate-only configuration of the store named by the Secret.
func TestMigrationJobParses(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/kubernetes/jobs/migrate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string `json:"kind"`
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Args []string `json:"args"`
						Env  []struct {
							Name      string  `json:"name"`
							Value     *string `json:"value"`
							ValueFrom *struct {
								SecretKeyRef *struct{ Name, Key string } `json:"secretKeyRef"`
							} `json:"valueFrom"`
						} `json:"env"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &job); err != nil {
		t.Fatal(err)
	}
	if job.Kind != "Job" || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want a Job with one container, got %+v", job)
	}
	c := job.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.Value != nil:
			env[e.Name] = *e.Value
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "postgres://secret/" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	cfg, err := Parse(c.Args, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("the Job's configuration does not parse: %v", err)
	}
	if !cfg.MigrateOnly || cfg.StoreURL() != "postgres://secret/seleksi-store/url" {
		t.Errorf("MigrateOnly=%v store %q, want a migration of the seleksi-store database", cfg.MigrateOnly, cfg.StoreURL())
	}
}

// TestDeployVariablesExist: every SELEKSI_ variable the deployment files set is one seleksid
// reads (its usage names it): a misspelt name would otherwise be ignored without a word.
func TestDeployVariablesExist(t *testing.T) {
	var usage strings.Builder
	_, _ = Parse([]string{"-h"}, func(string) string { return "" }, &usage)
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`\[(SELEKSI_[A-Z0-9_]+)\]`).FindAllStringSubmatch(usage.String(), -1) {
		known[m[1]] = true
	}
	// The S3 keys are read from the environment only, with no flag to name them.
	known["SELEKSI_S3_ACCESS_KEY"], known["SELEKSI_S3_SECRET_KEY"] = true, true
	name := regexp.MustCompile(`(?m)^\s*(?:- name: |)(SELEKSI_[A-Z0-9_]+)\s*:?`)
	files := []string{"../../deploy/kubernetes/seleksi.yaml", "../../deploy/kubernetes/jobs/migrate.yaml", "../../deploy/compose.yaml"}
	found := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range name.FindAllStringSubmatch(string(raw), -1) {
			found++
			if v := m[1]; !known[v] {
				t.Errorf("%s sets %s, which seleksid does not read", f, v)
			}
		}
	}
	if found < 10 {
		t.Fatalf("found only %d variables in the deployment files: the pattern no longer fits them", found)
	}
}
