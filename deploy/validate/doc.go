// Command validate checks Seleksi's deployment files without a cluster or Docker: every
// Kubernetes manifest under deploy/kubernetes is decoded strictly into the Kubernetes API's
// own types (an unknown or misspelt field is an error), then held to the rules in rules.go
// (probes, resources, non-root, read-only root filesystem, references between objects);
// deploy/compose.yaml is loaded and validated against the Compose specification's schema by
// compose-go, the library Docker Compose itself uses; deploy/Dockerfile is checked for the
// static, non-root build.
//
// It is a module of its own so that the Kubernetes and Compose libraries stay out of
// Seleksi's go.mod. Run it from the repository root (.ci/run does):
//
//	go -C deploy/validate run . -root ../..
package main
