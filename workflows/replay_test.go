package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
)

// TestReplay replays every recorded history in testdata/ through the current workflow code. A
// change that would make a running selection take a different path (a reordered activity, a
// new timer, a changed condition without workflow.GetVersion) fails here before it reaches a
// worker. Record histories with TestRecordHistories (see record_test.go).
func TestReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no recorded histories in workflows/testdata: record them with " +
			"go test ./workflows -run TestRecordHistories -args -record -temporal=HOST:PORT")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(SelectionWorkflow)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay of %s: %v", f, err)
			}
		})
	}
}
