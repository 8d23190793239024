package payloadcodec_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/bkpsdm/seleksi/internal/payloadcodec"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestRecordedHistoriesReplayWithCodec replays the histories recorded in clear before
// payloads were encrypted (workflows/testdata) with the data converter every worker now
// uses: the codec passes clear payloads through, so selections started before encryption
// was turned on keep running on the new workers.
func TestRecordedHistoriesReplayWithCodec(t *testing.T) {
	secret := make([]byte, payloadcodec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	c, err := payloadcodec.New([]payloadcodec.Key{{ID: "k1", Secret: secret}}, "")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "workflows", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in workflows/testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: c.DataConverter()})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflow(workflows.SelectionWorkflow)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay of %s with the codec: %v", f, err)
			}
		})
	}
}
