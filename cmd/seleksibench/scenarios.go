package main

import (
	"github.com/bkpsdm/seleksi/internal/bench"
	"github.com/bkpsdm/seleksi/internal/bench/baseline"
	"github.com/bkpsdm/seleksi/internal/bench/flows"
)

// scenarios is every scenario the command knows, in the order they run. Adding one is adding
// its line here.
func scenarios() []bench.Scenario {
	return append([]bench.Scenario{
		baseline.Command(),
		baseline.StatusRead(),
		baseline.BulkResults(),
	}, flows.Scenarios()...)
}
