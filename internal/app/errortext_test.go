package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/server"
)

// internalText marks text that is not ours to publish: the words of Go's parsers, the JSON
// decoder, gRPC and its transport, the store and its drivers, and the addresses they name.
var internalText = []string{
	"strconv", "parsing", "invalid syntax", "out of range", "proto:", "json:", "invalid character", "unexpected EOF",
	"grpc:", "rpc error", "desc =", "transport", "received message", "connection refused", "dial tcp", "10.9.8.7",
	"store:", "sql", "pgconn", "gorm", "sqlite", "page_token:", "malformed page_token", "context deadline", "%!", "goroutine", "panic",
}

// TestErrorsCarryNoInternalText sends a table of bad requests, each in Indonesian and in
// English, and scans every error body for internal text (found: the English description of
// a malformed query parameter carried `strconv.ParseInt: parsing "abc": invalid syntax`).
// Each answer must be a google.rpc.Status in the caller's language, and a 400 must name the
// offending field as REST clients send it.
func TestErrorsCarryNoInternalText(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"), server.Deadlines{})
	app := "/v1/selections/" + selOpen + "/applications/" + appOpen
	foreignToken := base64.RawURLEncoding.EncodeToString([]byte(`{"k":["2026-01-01T00:00:00Z","x"],"q":"0000000000000000","t":99}`))
	huge := `{"positionTitle":"` + strings.Repeat("x", 5<<20) + `"}`
	tests := []struct {
		name, method, path, body, token string
		wantHTTP                        int // 0: any error
		wantField                       string
	}{
		{"integer query parameter", http.MethodGet, "/v1/selections?pageSize=abc", "", "", 400, "pageSize"},
		{"integer out of range", http.MethodGet, "/v1/selections/" + selOpen + "/results/administrative-screening?revision=99999999999999999999", "", "", 400, "revision"},
		{"integer path of a result revision", http.MethodGet, "/v1/selections/" + selOpen + "/results/administrative-screening?revision=abc", "", "", 400, "revision"},
		{"parameter given twice", http.MethodGet, "/v1/selections?pageSize=1&pageSize=2", "", "", 400, "pageSize"},
		{"query string that is not one", http.MethodGet, "/v1/selections?filter=%zz", "", "", 400, "query"},
		{"page token of selections", http.MethodGet, "/v1/selections?pageToken=zzz", "", "", 400, "pageToken"},
		{"page token of applications", http.MethodGet, "/v1/selections/" + selOpen + "/applications?pageToken=zzz", "", api.admin, 400, "pageToken"},
		{"page token of another query", http.MethodGet, "/v1/selections/" + selOpen + "/applications?pageToken=" + foreignToken, "", api.admin, 400, "pageToken"},
		{"page token of audit events", http.MethodGet, "/v1/selections/" + selOpen + "/auditEvents?pageToken=zzz", "", api.auditor, 400, "pageToken"},
		{"page token of objections", http.MethodGet, app + "/objections?pageToken=zzz", "", api.candidate, 400, "pageToken"},
		{"unknown order", http.MethodGet, "/v1/selections?orderBy=salary", "", "", 400, "orderBy"},
		{"malformed filter", http.MethodGet, "/v1/selections?filter=stage%3D%3D", "", "", 400, "filter"},
		{"body that is not JSON", http.MethodPost, "/v1/selections?requestId=req-00000001", `{not json`, api.admin, 400, "body"},
		{"value of the wrong type", http.MethodPost, "/v1/selections?requestId=req-00000001", `{"positionTitle": 123}`, api.admin, 400, "body"},
		{"field given twice", http.MethodPost, "/v1/selections?requestId=req-00000001", `{"positionTitle":"a","positionTitle":"b"}`, api.admin, 400, "body"},
		{"unknown field", http.MethodPost, "/v1/selections?requestId=req-00000001", `{"positionTitel":"Kepala"}`, api.admin, 400, "body"},
		// Over the gRPC message limit; whatever answers it (a 413 before the gRPC call, or
		// the gRPC server's refusal), it must not quote gRPC.
		{"body larger than a gRPC message", http.MethodPost, "/v1/selections?requestId=req-00000001", huge, api.admin, 0, ""},
		{"no such route", http.MethodGet, "/v1/nothing-here", "", "", 404, ""},
		{"method not allowed", http.MethodDelete, "/v1/selections", "", "", 0, ""},
		{"no such application", http.MethodGet, "/v1/selections/" + selOpen + "/applications/app-nope", "", api.admin, 404, ""},
		// Temporal cannot be reached (its client's error names the address it dialled).
		{"export while Temporal is unreachable", http.MethodGet, "/v1/selections/" + selOpen + ":exportHistory", "", api.auditor, 503, ""},
	}
	for _, lang := range []string{"id", "en"} {
		for _, tt := range tests {
			t.Run(lang+" "+tt.name, func(t *testing.T) {
				code, body := doLang(t, tt.method, api.base+tt.path, tt.body, tt.token, lang)
				if code < 400 || (tt.wantHTTP != 0 && code != tt.wantHTTP) {
					t.Fatalf("HTTP %d, want %d: %s", code, tt.wantHTTP, body)
				}
				text := string(body)
				for _, mark := range internalText {
					if strings.Contains(text, mark) {
						t.Errorf("the answer carries internal text %q: %s", mark, text)
					}
				}
				var st struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Details []struct {
						Type            string `json:"@type"`
						Locale          string `json:"locale"`
						FieldViolations []struct {
							Field       string `json:"field"`
							Description string `json:"description"`
						} `json:"fieldViolations"`
					} `json:"details"`
				}
				if err := json.Unmarshal(body, &st); err != nil || st.Code == 0 || st.Message == "" {
					t.Fatalf("not a google.rpc.Status (%v): %s", err, text)
				}
				var locale string
				fields := map[string]bool{}
				for _, d := range st.Details {
					if strings.HasSuffix(d.Type, "google.rpc.LocalizedMessage") {
						locale = d.Locale
					}
					for _, v := range d.FieldViolations {
						if v.Description == "" {
							t.Errorf("violation of %s without a description", v.Field)
						}
						fields[v.Field] = true
					}
				}
				if locale != lang {
					t.Errorf("LocalizedMessage locale %q, want %q: %s", locale, lang, text)
				}
				if tt.wantField != "" && !fields[tt.wantField] {
					t.Errorf("no field violation naming %q: %s", tt.wantField, text)
				}
			})
		}
	}
}

// TestGRPCErrorsCarryNoInternalText: gRPC clients get the same words (found: "store: list
// applications ...: malformed page_token").
func TestGRPCErrorsCarryNoInternalText(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"), server.Deadlines{})
	conn, err := grpc.NewClient(api.tr.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+api.admin, "accept-language", "en")
	calls := map[string]func() error{
		"applications page token": func() error {
			_, err := seleksiv1.NewApplicationServiceClient(conn).ListApplications(ctx,
				&seleksiv1.ListApplicationsRequest{Parent: "selections/" + selOpen, PageToken: "zzz"})
			return err
		},
		"selections order": func() error {
			_, err := seleksiv1.NewSelectionServiceClient(conn).ListSelections(ctx, &seleksiv1.ListSelectionsRequest{OrderBy: "salary"})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		b, merr := protojson.Marshal(status.Convert(err).Proto())
		if merr != nil {
			t.Fatal(merr)
		}
		for _, mark := range internalText {
			if strings.Contains(string(b), mark) {
				t.Errorf("%s: the status carries internal text %q: %s", name, mark, b)
			}
		}
	}
}
