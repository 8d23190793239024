package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
)

// fakeSelections answers ListSelections from its request, so a test can see that a REST
// call arrived at the gRPC handler with its parameters intact, and holds GetSelection until
// released, so a test can shut down under an in-flight request.
type fakeSelections struct {
	seleksiv1.UnimplementedSelectionServiceServer
	entered chan struct{}
	release chan struct{}
}

func (f *fakeSelections) ListSelections(_ context.Context, req *seleksiv1.ListSelectionsRequest) (*seleksiv1.ListSelectionsResponse, error) {
	return &seleksiv1.ListSelectionsResponse{NextPageToken: "handled:" + req.GetFilter()}, nil
}

func (f *fakeSelections) GetSelection(ctx context.Context, req *seleksiv1.GetSelectionRequest) (*seleksiv1.GetSelectionResponse, error) {
	close(f.entered)
	select {
	case <-f.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &seleksiv1.GetSelectionResponse{Selection: &seleksiv1.Selection{Name: req.GetName()}}, nil
}

// tokens are bearer tokens for each kind of caller of the test transport.
type tokens struct {
	admin, candidate, committeeA, committeeB, expired string
}

func startTransport(t *testing.T, opts ...TransportOption) (*Transport, *fakeSelections, tokens) {
	t.Helper()
	return startTransportLogged(t, slog.New(slog.DiscardHandler), opts...)
}

func startTransportLogged(t *testing.T, logger *slog.Logger, opts ...TransportOption) (*Transport, *fakeSelections, tokens) {
	t.Helper()
	key, err := auth.LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mint := func(sub string, role auth.Role, sel []string, ttl time.Duration, now time.Time) string {
		tok, err := key.Mint(auth.MintOptions{Subject: sub, Role: role, Selections: sel, TTL: ttl, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	toks := tokens{
		admin:      mint("admin-1", auth.RoleAdmin, nil, time.Hour, now),
		candidate:  mint("199001012020011001", auth.RoleCandidate, nil, time.Hour, now),
		committeeA: mint("member-1", auth.RoleCommittee, []string{"kadis-pupr-2026"}, time.Hour, now),
		committeeB: mint("member-9", auth.RoleCommittee, []string{"other-2026"}, time.Hour, now),
		expired:    mint("admin-1", auth.RoleAdmin, nil, time.Minute, now.Add(-time.Hour)),
	}
	fake := &fakeSelections{entered: make(chan struct{}), release: make(chan struct{})}
	tr, err := NewTransport(context.Background(), logger, "127.0.0.1:0", "127.0.0.1:0", key.Verifier(time.Now, 0), server.Services{
		Selection:    fake,
		Application:  seleksiv1.UnimplementedApplicationServiceServer{},
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
	}, opts...)
	if err != nil {
		t.Fatalf("NewTransport: %v", err)
	}
	tr.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(ctx)
	})
	return tr, fake, toks
}

// rpcStatus is the JSON form of google.rpc.Status the gateway writes for errors.
type rpcStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type            string `json:"@type"`
		FieldViolations []struct {
			Field       string `json:"field"`
			Description string `json:"description"`
		} `json:"fieldViolations"`
	} `json:"details"`
}

func do(t *testing.T, method, url, body, token string) (int, []byte) {
	t.Helper()
	return doLang(t, method, url, body, token, "")
}

func doLang(t *testing.T, method, url, body, token, lang string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestHealthIsServingOverGRPCAndHTTP(t *testing.T) {
	tr, _, _ := startTransport(t)
	conn, err := grpc.NewClient(tr.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, svc := range []string{"", "seleksi.v1.SelectionService", "seleksi.v1.ApplicationService", "seleksi.v1.AuditService"} {
		resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			t.Fatalf("health check %q: %v", svc, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q = %s, want SERVING", svc, resp.GetStatus())
		}
	}
	if code, body := do(t, http.MethodGet, "http://"+tr.HTTPAddr()+"/healthz", "", ""); code != http.StatusOK {
		t.Errorf("/healthz = %d %s", code, body)
	}
}

func TestGatewayRoutes(t *testing.T) {
	tr, _, tok := startTransport(t)
	base := "http://" + tr.HTTPAddr()

	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		token      string
		lang       string
		wantCode   int
		wantBody   string // substring of the response body
		wantFields []string
	}{
		{
			name: "REST call reaches the gRPC handler", method: http.MethodGet,
			path: "/v1/selections?filter=stage%3DSTAGE_ANNOUNCEMENT", wantCode: http.StatusOK,
			wantBody: `"nextPageToken":"handled:stage=STAGE_ANNOUNCEMENT"`,
		},
		{
			name: "invalid field is a 400 naming the field as REST clients send it, in Indonesian", method: http.MethodGet,
			path: "/v1/selections?pageSize=100000", wantCode: http.StatusBadRequest,
			wantFields: []string{"pageSize"}, wantBody: `"description":"harus antara 0 dan 1000"`,
		},
		{
			name: "field violations follow Accept-Language: English", method: http.MethodGet,
			path: "/v1/selections?pageSize=100000", lang: "en", wantCode: http.StatusBadRequest,
			wantFields: []string{"pageSize"}, wantBody: `"description":"must be between 0 and 1000"`,
		},
		{
			name: "missing required fields are a 400 naming each field", method: http.MethodPost,
			path: "/v1/selections", body: `{}`, token: tok.admin, wantCode: http.StatusBadRequest,
			wantFields: []string{"requestId"},
		},
		{
			name: "body that is not JSON is a 400 with a field violation", method: http.MethodPost,
			path: "/v1/selections?requestId=req-00000001", body: `{"positionTitle": `, token: tok.admin, wantCode: http.StatusBadRequest,
			wantFields: []string{"body"},
		},
		{
			name: "unknown JSON field is a 400", method: http.MethodPost,
			path: "/v1/selections?requestId=req-00000001", body: `{"positionTitel": "Kepala Dinas"}`, token: tok.admin, wantCode: http.StatusBadRequest,
			wantFields: []string{"body"},
		},
		{
			name: "errors follow Accept-Language: English", method: http.MethodPost,
			path: "/v1/selections", body: `{}`, token: tok.admin, lang: "en-US,en;q=0.9", wantCode: http.StatusBadRequest,
			wantBody: `"message":"request is invalid"`,
		},
		{
			name: "401 in Indonesian without Accept-Language", method: http.MethodPost,
			path: "/v1/selections/kadis-pupr-2026:cancel", body: `{}`, wantCode: http.StatusUnauthorized,
			wantBody: `"message":"token tidak ada atau tidak valid"`,
		},
		{
			name: "malformed body message follows Accept-Language", method: http.MethodPost,
			path: "/v1/selections?requestId=req-00000001", body: `{`, token: tok.admin, lang: "en", wantCode: http.StatusBadRequest,
			wantBody: `"locale":"en"`,
		},
		{
			name: "unknown route is a 404", method: http.MethodGet,
			path: "/v1/nothing-here", wantCode: http.StatusNotFound, wantBody: `"code":5`,
		},
		{
			name: "unimplemented method is a 501 from the gRPC server", method: http.MethodGet,
			path: "/v1/selections/kadis-pupr-2026/applications", token: tok.committeeA, wantCode: http.StatusNotImplemented, wantBody: `"code":12`,
		},
		{
			name: "command without a token is a 401", method: http.MethodPost,
			path: "/v1/selections/kadis-pupr-2026:cancel", body: `{}`, wantCode: http.StatusUnauthorized, wantBody: `"code":16`,
		},
		{
			name: "expired token is a 401 even on a public route", method: http.MethodGet,
			path: "/v1/selections", token: tok.expired, wantCode: http.StatusUnauthorized,
		},
		{
			name: "tampered token is a 401", method: http.MethodGet,
			path: "/v1/selections/kadis-pupr-2026/applications", token: tok.committeeA + "x", wantCode: http.StatusUnauthorized,
		},
		{
			name: "wrong role is a 403", method: http.MethodPost,
			path: "/v1/selections?requestId=req-00000001", body: `{}`, token: tok.candidate, wantCode: http.StatusForbidden, wantBody: `"code":7`,
		},
		{
			name: "committee member of another selection is a 403", method: http.MethodGet,
			path: "/v1/selections/kadis-pupr-2026/applications", token: tok.committeeB, wantCode: http.StatusForbidden,
		},
		{
			name: "auditor route refused to a candidate", method: http.MethodGet,
			path: "/v1/selections/kadis-pupr-2026/auditEvents", token: tok.candidate, wantCode: http.StatusForbidden,
		},
		{
			name: "OpenAPI document lists the contract", method: http.MethodGet,
			path: "/openapi.json", wantCode: http.StatusOK, wantBody: `"/v1/selections/{selection}:advance"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := doLang(t, tt.method, base+tt.path, tt.body, tt.token, tt.lang)
			if code != tt.wantCode {
				t.Fatalf("%s %s = %d, want %d; body %s", tt.method, tt.path, code, tt.wantCode, body)
			}
			if tt.wantBody != "" && !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %s does not contain %s", body, tt.wantBody)
			}
			if len(tt.wantFields) == 0 {
				return
			}
			var st rpcStatus
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatalf("error body is not a google.rpc.Status: %v: %s", err, body)
			}
			if st.Code != int(codes.InvalidArgument) {
				t.Errorf("code = %d, want InvalidArgument", st.Code)
			}
			got := map[string]bool{}
			for _, d := range st.Details {
				if d.Type != "type.googleapis.com/google.rpc.BadRequest" {
					continue
				}
				for _, v := range d.FieldViolations {
					if v.Description == "" {
						t.Errorf("violation of %s has no description", v.Field)
					}
					got[v.Field] = true
				}
			}
			for _, f := range tt.wantFields {
				if !got[f] {
					t.Errorf("no BadRequest field violation for %q in %s", f, body)
				}
			}
		})
	}
}

// TestGRPCFieldViolationsUseProtoNames: a gRPC client gets the proto names its generated
// code knows (page_size), as google.rpc.BadRequest prescribes for protocol buffers, with the
// description in the language its accept-language metadata asks for.
func TestGRPCFieldViolationsUseProtoNames(t *testing.T) {
	tr, _, _ := startTransport(t)
	conn, err := grpc.NewClient(tr.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tt := range []struct{ lang, want string }{{"", "harus antara 0 dan 1000"}, {"en", "must be between 0 and 1000"}} {
		ctx := context.Background()
		if tt.lang != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "accept-language", tt.lang)
		}
		_, err := seleksiv1.NewSelectionServiceClient(conn).ListSelections(ctx, &seleksiv1.ListSelectionsRequest{PageSize: 100000})
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument {
			t.Fatalf("code %s: %v", st.Code(), err)
		}
		found := false
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					found = found || (v.GetField() == "page_size" && v.GetDescription() == tt.want && v.GetLocalizedMessage().GetMessage() == tt.want)
				}
			}
		}
		if !found {
			t.Errorf("lang %q: no violation of page_size saying %q in %v", tt.lang, tt.want, st.Details())
		}
	}
}

func TestShutdownCompletesInFlightRequest(t *testing.T) {
	tr, fake, _ := startTransport(t)
	url := "http://" + tr.HTTPAddr() + "/v1/selections/kadis-pupr-2026"

	type result struct {
		code int
		body []byte
	}
	done := make(chan result, 1)
	go func() {
		code, body := do(t, http.MethodGet, url, "", "")
		done <- result{code, body}
	}()
	select {
	case <-fake.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the handler")
	}

	shutdownErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdownErr <- tr.Shutdown(ctx)
	}()

	// Shutdown must wait for the request, and new connections must be refused meanwhile.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := http.Get("http://" + tr.HTTPAddr() + "/healthz")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("gateway still accepts connections during shutdown")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-shutdownErr:
		t.Fatalf("shutdown returned (%v) before the in-flight request finished", err)
	default:
	}

	close(fake.release)
	res := <-done
	if res.code != http.StatusOK || !strings.Contains(string(res.body), "selections/kadis-pupr-2026") {
		t.Fatalf("in-flight request = %d %s, want 200 with the selection", res.code, res.body)
	}
	if err := <-shutdownErr; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if status.Code(callStopped(tr)) != codes.Unavailable {
		t.Error("gRPC server still answers after shutdown")
	}
}

// callStopped makes one gRPC call to a stopped transport and returns its error.
func callStopped(tr *Transport) error {
	conn, err := grpc.NewClient(tr.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}
