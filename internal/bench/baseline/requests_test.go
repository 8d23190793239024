package baseline

import (
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// TestRequestsAreValid checks the requests the scenarios send against the API's validation
// rules, so that a change of the rules shows here rather than as a failed benchmark run.
func TestRequestsAreValid(t *testing.T) {
	app := "selections/bulk-0a1b2c-0/applications/app-0001"
	tests := []struct {
		name string
		msg  proto.Message
	}{
		{"create", &seleksiv1.CreateSelectionRequest{RequestId: "create-bulk-0a1b2c-0", SelectionId: "bulk-0a1b2c-0",
			Selection: selectionDefinition(3)}},
		{"create, longest window", &seleksiv1.CreateSelectionRequest{RequestId: requestID("create"), Selection: selectionDefinition(60)}},
		{"submit", &seleksiv1.SubmitApplicationRequest{Parent: "selections/bulk-0a1b2c-0", RequestId: "submit-00042",
			Application: applicationOf(42)}},
		{"submit, last", &seleksiv1.SubmitApplicationRequest{Parent: "selections/bulk-0a1b2c-0", RequestId: "submit-99999",
			Application: applicationOf(99999)}},
		{"pass", &seleksiv1.RecordResultsRequest{Name: "selections/bulk-0a1b2c-0", RequestId: requestID("sheet"),
			Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Results: []*seleksiv1.ApplicationResult{verdict(0, app)}}},
		{"fail", &seleksiv1.RecordResultsRequest{Name: "selections/bulk-0a1b2c-0", RequestId: requestID("verdict"),
			Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Results: []*seleksiv1.ApplicationResult{verdict(4, app)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := protovalidate.Validate(tt.msg); err != nil {
				t.Errorf("%v", err)
			}
		})
	}
}

func TestSplitApplication(t *testing.T) {
	tests := []struct {
		name, sel, app string
		ok             bool
	}{
		{"selections/s-1/applications/a-1", "s-1", "a-1", true},
		{"selections/s-1", "", "", false},
		{"selections/s-1/results/a-1", "", "", false},
		{"selections/s-1/applications/a-1/documents/d", "", "", false},
	}
	for _, tt := range tests {
		sel, app, ok := splitApplication(tt.name)
		if sel != tt.sel || app != tt.app || ok != tt.ok {
			t.Errorf("splitApplication(%q) = %q, %q, %v; want %q, %q, %v", tt.name, sel, app, ok, tt.sel, tt.app, tt.ok)
		}
	}
}
