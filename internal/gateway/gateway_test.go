package gateway

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestJSONFieldPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"page_size", "pageSize"},
		{"request_id", "requestId"},
		{"selection.committee[2].member_id", "selection.committee[2].memberId"},
		{"results[0].scores[1].score", "results[0].scores[1].score"},
		{`labels["a_b"].x_y`, `labels["a_b"].xY`},
		{"years_in_post_2", "yearsInPost2"},
		{"body", "body"},
	}
	for _, tt := range tests {
		if got := jsonFieldPath(tt.in); got != tt.want {
			t.Errorf("jsonFieldPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWithJSONFieldNamesKeepsOtherDetails(t *testing.T) {
	st, err := status.New(codes.InvalidArgument, "permintaan tidak valid").WithDetails(
		&errdetails.LocalizedMessage{Locale: "id", Message: "permintaan tidak valid"},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "page_size", Description: "harus antara 0 dan 1000"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := withJSONFieldNames(st)
	d := out.Details()
	if len(d) != 2 || out.Message() != st.Message() || out.Code() != codes.InvalidArgument {
		t.Fatalf("status %v", out)
	}
	if lm, ok := d[0].(*errdetails.LocalizedMessage); !ok || lm.GetMessage() != "permintaan tidak valid" {
		t.Errorf("first detail %v", d[0])
	}
	if br, ok := d[1].(*errdetails.BadRequest); !ok || br.GetFieldViolations()[0].GetField() != "pageSize" ||
		br.GetFieldViolations()[0].GetDescription() != "harus antara 0 dan 1000" {
		t.Errorf("second detail %v", d[1])
	}
}

func TestDescribeParseErrorNamesThePart(t *testing.T) {
	tests := []struct{ msg, field string }{
		{`parsing field "page_size": strconv.ParseInt: parsing "abc": invalid syntax`, "page_size"},
		{`invalid grpc-timeout: x`, "Grpc-Timeout"},
		{`proto: syntax error (line 1:1): unexpected token`, "body"},
	}
	for _, tt := range tests {
		if got := describeParseError(tt.msg); got.field != tt.field || got.text.EN == "" || got.text.ID == "" {
			t.Errorf("describeParseError(%q) = %+v, want field %q", tt.msg, got, tt.field)
		}
	}
}
