package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// TestEveryCELRuleIsTranslated: each message-level rule of the protos has Indonesian words,
// so no violation reaches an Indonesian reader in English.
func TestEveryCELRuleIsTranslated(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "api", "seleksi", "v1", "*.proto"))
	if err != nil || len(files) == 0 {
		t.Fatalf("protos: %v", err)
	}
	id := regexp.MustCompile(`\bid: "([a-z_.]+)"`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range id.FindAllStringSubmatch(string(b), -1) {
			n++
			if _, ok := celRules[m[1]]; !ok {
				t.Errorf("%s: rule %s has no Indonesian words in celRules", filepath.Base(f), m[1])
			}
		}
	}
	if n != len(celRules) {
		t.Errorf("%d rules in the protos, %d in celRules", n, len(celRules))
	}
}

// TestValidationStatusIsLocalized: protovalidate violations name the proto field and say
// what is wrong in Indonesian by default, in English on request.
func TestValidationStatusIsLocalized(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 2001)
	tests := []struct {
		name     string
		req      proto.Message
		field    string
		id, en   string
		wantRule string
	}{
		{"range", &seleksiv1.ListSelectionsRequest{PageSize: 5000}, "page_size", "harus antara 0 dan 1000", "must be between 0 and 1000", "int32.gte_lte"},
		{"pattern", &seleksiv1.CancelSelectionRequest{Name: "selections/x", RequestId: "req-00000001", Reason: "alasan"}, "name",
			"bentuknya tidak sesuai dengan pola ^selections/[a-z0-9][a-z0-9-]{2,62}$", "does not match the pattern ^selections/[a-z0-9][a-z0-9-]{2,62}$", "string.pattern"},
		{"length", &seleksiv1.RecordResultsRequest{Name: "selections/kadis-2026", RequestId: "req-00000001", Stage: seleksiv1.Stage_STAGE_INTERVIEW,
			Results:    []*seleksiv1.ApplicationResult{{Application: "selections/kadis-2026/applications/app-1", Outcome: seleksiv1.Outcome_OUTCOME_PASS}},
			Correction: true, CorrectionReason: long}, "correction_reason", "paling banyak 2000 karakter", "must be at most 2000 characters", "string.max_len"},
		{"message rule names its field", &seleksiv1.RecordResultsRequest{Name: "selections/kadis-2026", RequestId: "req-00000001", Stage: seleksiv1.Stage_STAGE_INTERVIEW,
			Results:    []*seleksiv1.ApplicationResult{{Application: "selections/kadis-2026/applications/app-1", Outcome: seleksiv1.Outcome_OUTCOME_PASS}},
			Correction: true}, "correction_reason", "alasan perbaikan wajib diisi bila hasil diperbaiki, dan hanya pada saat itu",
			"correction_reason is required when correction is set, and only then", "record_results.correction_reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verr := v.Validate(tt.req)
			if verr == nil {
				t.Fatal("valid")
			}
			for lang, want := range map[string]string{"": tt.id, "en-GB": tt.en} {
				ctx := context.Background()
				if lang != "" {
					ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("accept-language", lang))
				}
				st, _ := status.FromError(validationStatus(ctx, verr))
				var got []*errdetails.BadRequest_FieldViolation
				for _, d := range st.Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						got = br.GetFieldViolations()
					}
				}
				if len(got) != 1 || got[0].GetField() != tt.field || got[0].GetDescription() != want || got[0].GetReason() != tt.wantRule ||
					got[0].GetLocalizedMessage().GetMessage() != want {
					t.Errorf("lang %q: violations %v, want %s: %q (%s)", lang, got, tt.field, want, tt.wantRule)
				}
			}
		})
	}
	if err := validationStatus(context.Background(), errors.New("compile")); status.Code(err).String() != "Internal" {
		t.Errorf("a rule that cannot run is %v", err)
	}
}
