package workflows

import "strings"

// TaskQueue is the task queue the selection worker polls and the API starts workflows on.
const TaskQueue = "seleksi-selection"

// workflowIDPrefix keeps selection workflows apart from any other workflow type that may share
// the namespace later.
const workflowIDPrefix = "selection-"

// WorkflowID is the ID of the workflow that runs a selection. Both the API (to start, update
// and query it) and the worker use this one helper. The selection ID is chosen by the
// secretariat, such as "dinkes-2026-01", and never holds personal data, because workflow IDs
// are visible to every operator of the Temporal cluster.
func WorkflowID(selectionID string) string { return workflowIDPrefix + selectionID }

// SelectionIDFromWorkflowID is the inverse of WorkflowID.
func SelectionIDFromWorkflowID(workflowID string) (string, bool) {
	id, ok := strings.CutPrefix(workflowID, workflowIDPrefix)
	return id, ok && ValidSelectionID(id)
}

// ValidSelectionID reports whether id matches the API's resource ID pattern
// ^[a-z0-9][a-z0-9-]{2,62}$.
func ValidSelectionID(id string) bool {
	if len(id) < 3 || len(id) > 63 {
		return false
	}
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-' && i > 0:
		default:
			return false
		}
	}
	return true
}
