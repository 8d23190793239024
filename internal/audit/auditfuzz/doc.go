// Package auditfuzz holds the fuzz targets of package audit: export bundles (zip), Temporal
// histories in JSON and their replay, read from files anyone may hand an auditor. The
// targets use audit's exported API only, and live apart from audit's own tests so that
// their instrumented build (go test -fuzz compiles every dependency again) leaves out what
// those tests link (the store, SQLite, PostgreSQL drivers), about half of the build. Their
// seed corpora under testdata/fuzz are written by audit's TestFuzzSeeds.
package auditfuzz
