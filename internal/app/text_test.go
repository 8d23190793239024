package app

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// TestTextTheStoresCannotHoldIsRefused: a NUL character anywhere in a request (found: a
// withdrawal reason that froze a selection on PostgreSQL) is answered 400 InvalidArgument with
// a field violation naming the field, through REST and through gRPC, before any handler runs.
func TestTextTheStoresCannotHoldIsRefused(t *testing.T) {
	tr, _, toks := startTransport(t)
	base := "http://" + tr.HTTPAddr()
	app := "/v1/selections/kadis-pupr-2026/applications/app-0001"
	tests := []struct {
		name, path, body, token string
		field                   string
	}{
		{"withdrawal reason", app + ":withdraw", `{"requestId":"req-00000001","reason":"mundur\u0000"}`, toks.candidate, "reason"},
		{"nested and repeated", "/v1/selections/kadis-pupr-2026:recordResults",
			`{"requestId":"req-00000002","stage":"STAGE_ADMINISTRATIVE_SCREENING","results":[` +
				`{"application":"selections/kadis-pupr-2026/applications/app-0001","outcome":"OUTCOME_PASS"},` +
				`{"application":"selections/kadis-pupr-2026/applications/app-0002","outcome":"OUTCOME_FAIL","reason":"tidak\u0000lengkap"}]}`,
			toks.committeeA, "results[1].reason"},
		{"cancel reason", "/v1/selections/kadis-pupr-2026:cancel", `{"requestId":"req-00000003","reason":"\u0000"}`, toks.admin, "reason"},
	}
	for _, tc := range tests {
		t.Run("REST "+tc.name, func(t *testing.T) {
			code, body := do(t, http.MethodPost, base+tc.path, tc.body, tc.token)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d: %s", code, body)
			}
			var st rpcStatus
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, d := range st.Details {
				for _, v := range d.FieldViolations {
					fields = append(fields, v.Field)
				}
			}
			if st.Code != int(codes.InvalidArgument) || !slices.Contains(fields, tc.field) {
				t.Errorf("code %d, fields %q, want %s: %s", st.Code, fields, tc.field, body)
			}
		})
	}

	t.Run("gRPC withdrawal reason", func(t *testing.T) {
		conn, err := grpc.NewClient(tr.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+toks.candidate)
		_, err = seleksiv1.NewApplicationServiceClient(conn).WithdrawApplication(ctx, &seleksiv1.WithdrawApplicationRequest{
			Name: "selections/kadis-pupr-2026/applications/app-0001", RequestId: "req-00000004", Reason: "alasan\x00pribadi"})
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument {
			t.Fatalf("status %v", st)
		}
		var fields []string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					fields = append(fields, v.GetField())
				}
			}
		}
		if !slices.Equal(fields, []string{"reason"}) {
			t.Errorf("field violations %q", fields)
		}
	})
}
