package flows

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/bkpsdm/seleksi/internal/bench"
)

// history is how long a selection's workflow history grew: its runs (one more for each
// continue-as-new) and their events.
type history struct {
	runs, continuedAsNew int
	// longest is the most events of one run; total the events of every run.
	longest, total int64
}

// historyOf asks Temporal, as an operator would, for the runs of the workflow and their
// history lengths (DescribeWorkflowExecution's figure, through the visibility list).
func historyOf(ctx context.Context, env *bench.Env, workflowID string) (history, error) {
	if env.TemporalAddress == "" {
		return history{}, fmt.Errorf("no Temporal address to read the history of %s from", workflowID)
	}
	logger := env.Log
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.DialContext(dialCtx, client.Options{HostPort: env.TemporalAddress, Namespace: env.TemporalNamespace,
		Logger: sdklog.NewStructuredLogger(logger.With("component", "temporal-sdk"))})
	if err != nil {
		return history{}, fmt.Errorf("dial Temporal at %s: %w", env.TemporalAddress, err)
	}
	defer c.Close()
	var h history
	query := "WorkflowId = '" + strings.ReplaceAll(workflowID, "'", "") + "'"
	for page := []byte(nil); ; {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: env.TemporalNamespace, Query: query, NextPageToken: page})
		if err != nil {
			return h, fmt.Errorf("list the runs of %s: %w", workflowID, err)
		}
		for _, ex := range resp.GetExecutions() {
			h.runs++
			if ex.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
				h.continuedAsNew++
			}
			h.total += ex.GetHistoryLength()
			h.longest = max(h.longest, ex.GetHistoryLength())
		}
		if page = resp.GetNextPageToken(); len(page) == 0 {
			break
		}
	}
	if h.runs == 0 {
		// Visibility may lag a closed run; the current run's own description does not.
		d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
		if err != nil {
			return h, fmt.Errorf("describe %s: %w", workflowID, err)
		}
		n := d.GetWorkflowExecutionInfo().GetHistoryLength()
		h = history{runs: 1, longest: n, total: n}
	}
	return h, nil
}
