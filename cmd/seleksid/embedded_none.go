//go:build noembedded

package main

import "github.com/bkpsdm/seleksi/internal/app"

// startEmbedded is absent from a build with the tag noembedded: the API and worker image of a
// deployment on a Temporal cluster (deploy/Dockerfile), which leaves out the Temporal server
// and its Web UI, about half of the binary. Such a seleksid needs -temporal-address; without
// it app.Start says that no embedded server is available.
var startEmbedded app.StartEmbeddedFunc
