package main

import (
	"github.com/bkpsdm/seleksi/internal/bench"
	"github.com/bkpsdm/seleksi/internal/bench/baseline"
)

// scenarios is every scenario the command knows, in the order they run. Adding one is adding
// its line here.
func scenarios() []bench.Scenario {
	return []bench.Scenario{
		baseline.Command(),
		baseline.StatusRead(),
		baseline.BulkResults(),
	}
}
