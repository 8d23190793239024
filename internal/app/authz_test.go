package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// acceptingWorkflows accepts every command, so that the matrix below sees only what the API
// edge decides: authentication, roles, committee scope and ownership.
type acceptingWorkflows struct{}

func (acceptingWorkflows) ExecuteWorkflow(context.Context, client.StartWorkflowOptions, any, ...any) (client.WorkflowRun, error) {
	return nil, nil
}

func (acceptingWorkflows) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return acceptedHandle{}, nil
}

type acceptedHandle struct{ client.WorkflowUpdateHandle }

func (acceptedHandle) Get(_ context.Context, ptr any) error {
	if r, ok := ptr.(*workflows.UpdateResult); ok {
		*r = workflows.UpdateResult{Seq: 1}
	}
	return nil
}

// TestAuthorizationMatrix calls every route as every role, on resources the caller owns (or
// sits on) and on others', and checks who is let through. "Let through" means the request got
// past the edge: it may still fail later for a domain reason, but never with 401 or 403, and
// never with 404 for the caller's own application.
func TestAuthorizationMatrix(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, id := range []string{"sel-own", "sel-other"} {
		if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-" + id, WorkflowID: workflows.WorkflowID(id),
			PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
			Committee: []store.CommitteeMember{{MemberID: "member-1", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
			Actor:     store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: workflows.WorkflowID(id), SelectionID: id, Key: "window-1",
			Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(24 * time.Hour), ClosesWall: now.Add(24 * time.Hour)}}, now); err != nil {
			t.Fatal(err)
		}
	}
	submit := func(sel, subject, nip string) string {
		// The owner is the candidate as the store records people: their actor ID.
		owner, err := st.ActorID(ctx, auth.LocalIssuer, subject)
		if err != nil {
			t.Fatal(err)
		}
		a, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: sel, RequestID: "submit-" + subject + sel, Owner: owner,
			Candidate: store.Candidate{Subject: subject, FullName: "Calon " + subject, NIP: nip, Email: subject + "@example.id", BirthDate: "1975-05-05"},
			Now:       now})
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	ownApp := submit("sel-own", "cand-a", "197505052000011001")
	otherApp := submit("sel-own", "cand-b", "197505052000011002")

	key, err := auth.LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(sub string, role auth.Role, sel ...string) string {
		tok, err := key.Mint(auth.MintOptions{Subject: sub, Role: role, Selections: sel, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	logger := slog.New(slog.DiscardHandler)
	tr, err := NewTransport(ctx, logger, "127.0.0.1:0", "127.0.0.1:0", key.Verifier(time.Now, 0), server.Services{
		Selection:    server.NewSelectionServer(st, acceptingWorkflows{}, nil, logger, server.SelectionOptions{TaskQueue: "q"}),
		Application:  server.NewApplicationServer(st, acceptingWorkflows{}, nil, logger, nil),
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: server.NewNotificationServer(st, nil, logger),
		Report:       server.NewReportServer(st, nil, logger, time.Now),
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	defer func() { _ = tr.Shutdown(context.Background()) }()
	base := "http://" + tr.HTTPAddr()

	type caller struct {
		name  string
		token string
	}
	callers := []caller{
		{"anonymous", ""},
		{"admin", mint("admin-1", auth.RoleAdmin)},
		{"committee of this selection", mint("member-1", auth.RoleCommittee, "sel-own")},
		{"committee of another selection", mint("member-1", auth.RoleCommittee, "sel-other")},
		{"candidate owning the application", mint("cand-a", auth.RoleCandidate)},
		{"candidate not owning it", mint("cand-b-not", auth.RoleCandidate)},
		{"auditor", mint("auditor-1", auth.RoleAuditor)},
	}
	const (
		anon = 1 << iota
		admin
		committee
		otherCommittee
		owner
		notOwner
		auditor
		everyone = anon | admin | committee | otherCommittee | owner | notOwner | auditor
	)
	sel := "/v1/selections/sel-own"
	app := sel + "/applications/" + ownApp
	// owned marks routes on one candidate's application: another candidate is answered 404
	// (so application IDs cannot be probed), and a 404 on a read by the owner can only mean
	// the edge refused it. Elsewhere a 404 is the domain's answer (no result published yet,
	// or the command's effect is absent because the fake workflow applies nothing).
	routes := []struct {
		method, path, body string
		allowed            int
		owned              bool
	}{
		{"GET", "/v1/selections", "", everyone, false},
		{"GET", sel, "", everyone, false},
		{"GET", sel + "/results/administrative-screening", "", everyone, false},
		{"POST", "/v1/selections?requestId=req-00000001", `{}`, admin, false},
		{"POST", sel + ":advance", `{"requestId":"req-00000002","expectedStage":"STAGE_ADMINISTRATIVE_SCREENING"}`, committee, false},
		{"POST", sel + ":recordResults", fmt.Sprintf(`{"requestId":"req-00000003","stage":"STAGE_ADMINISTRATIVE_SCREENING","results":[{"application":"selections/sel-own/applications/%s","outcome":"OUTCOME_PASS"}]}`, ownApp), committee, false},
		{"POST", sel + ":declareConflict", fmt.Sprintf(`{"requestId":"req-00000004","memberId":"member-1","application":"selections/sel-own/applications/%s","relationship":"saudara kandung"}`, otherApp), committee, false},
		{"POST", sel + ":decide", fmt.Sprintf(`{"requestId":"req-00000005","ranked":[{"application":"selections/sel-own/applications/%s","rank":1,"reason":"nilai tertinggi"}],"shortfallStatement":"hanya satu yang memenuhi syarat"}`, ownApp), committee, false},
		{"POST", sel + ":appoint", fmt.Sprintf(`{"requestId":"req-00000006","application":"selections/sel-own/applications/%s","ppkDecreeRef":"800/123/2026","oversightRecommendationRef":"R-1/BKN/2026"}`, ownApp), admin, false},
		{"POST", sel + ":supplyHolidays", `{"requestId":"req-00000012","year":2027,"days":[{"date":"2027-01-01","description":"Tahun Baru"}],"reason":"SKB 3 Menteri 2027"}`, admin, false},
		{"POST", sel + ":cancel", `{"requestId":"req-00000007","reason":"anggaran dialihkan"}`, admin, false},
		{"POST", sel + ":resume", `{"requestId":"req-00000013","reason":"basis data dipulihkan"}`, admin, false},
		{"GET", sel + "/applications", "", admin | committee | owner | notOwner | auditor, false},
		{"GET", app, "", admin | committee | owner | auditor, true},
		{"POST", app + ":withdraw", `{"requestId":"req-00000008","reason":"mengundurkan diri"}`, owner, true},
		{"POST", app + "/objections?requestId=req-00000009", `{"stage":"STAGE_ADMINISTRATIVE_SCREENING","reason":"dokumen saya lengkap"}`, owner, true},
		{"GET", app + "/objections", "", admin | committee | owner | auditor, true},
		{"POST", app + "/objections/administrative-screening:answer", `{"requestId":"req-00000010","accepted":false,"answer":"dokumen tidak lengkap"}`, committee, false},
		{"GET", sel + "/auditEvents", "", auditor, false},
		{"GET", sel + ":exportHistory", "", auditor, false},
		{"POST", sel + ":verify", `{}`, auditor, false},
		{"GET", "/v1/auditKeys/current", "", everyone, false},
		// A candidate lists notifications too, only their own (TestCandidateListsOwnNotifications).
		{"GET", "/v1/notifications?filter=state%20%3D%20DEAD", "", admin | auditor | owner | notOwner, false},
		{"POST", "/v1/notifications/n-missing:retry", `{}`, admin, false},
		// Reports hold unpublished scores: never public, never for candidates.
		{"GET", sel + "/scoreRecaps/interview", "", admin | committee | auditor, false},
		{"GET", sel + "/scoreRecaps/interview:export", "", admin | committee | auditor, false},
		{"GET", sel + "/meritComplianceReport", "", admin | committee | auditor, false},
		{"GET", "/v1/dashboard", "", admin | auditor, false},
	}
	bits := []int{anon, admin, committee, otherCommittee, owner, notOwner, auditor}
	for _, r := range routes {
		for i, c := range callers {
			t.Run(r.method+" "+r.path+" as "+c.name, func(t *testing.T) {
				code, body := do(t, r.method, base+r.path, r.body, c.token)
				allowed := r.allowed&bits[i] != 0
				denied := code == http.StatusUnauthorized || code == http.StatusForbidden ||
					(code == http.StatusNotFound && r.owned && c.name == "candidate not owning it")
				if allowed && (denied || code == http.StatusNotFound && r.owned && r.method == http.MethodGet) {
					t.Errorf("%s was refused: %d %s", c.name, code, body)
				}
				if !allowed && !denied {
					t.Errorf("%s got through: %d %s", c.name, code, body)
				}
			})
		}
	}

	// A candidate lists only their own applications; the committee sees every one, in each
	// documented order; an unknown order is a field violation on orderBy, in the caller's
	// language, without the store's wording.
	list := func(t *testing.T, token, query string) (int, []string, string) {
		t.Helper()
		code, body := do(t, "GET", base+sel+"/applications"+query, "", token)
		var resp struct {
			Applications []struct{ Name string }
		}
		_ = json.Unmarshal(body, &resp)
		var names []string
		for _, a := range resp.Applications {
			names = append(names, path.Base(a.Name))
		}
		return code, names, string(body)
	}
	// Both were submitted at the same instant and have no final score yet: ties go by ID.
	byID := []string{ownApp, otherApp}
	slices.Sort(byID)
	listTests := []struct {
		name, token, query string
		wantCode           int
		want               []string
	}{
		{"a candidate sees their own", mint("cand-a", auth.RoleCandidate), "", http.StatusOK, []string{ownApp}},
		{"a candidate without applications sees none", mint("cand-b-not", auth.RoleCandidate), "", http.StatusOK, nil},
		{"the committee sees all", mint("member-1", auth.RoleCommittee, "sel-own"), "", http.StatusOK, byID},
		{"by final score", mint("auditor-1", auth.RoleAuditor), "?orderBy=final_score%20desc", http.StatusOK, []string{byID[1], byID[0]}},
		{"by candidate name desc", mint("admin-1", auth.RoleAdmin), "?orderBy=candidate.full_name%20desc", http.StatusOK, []string{otherApp, ownApp}},
		{"by candidate name", mint("admin-1", auth.RoleAdmin), "?orderBy=candidate.full_name", http.StatusOK, []string{ownApp, otherApp}},
		{"unknown order", mint("admin-1", auth.RoleAdmin), "?orderBy=rank", http.StatusBadRequest, nil},
	}
	for _, tt := range listTests {
		t.Run("list: "+tt.name, func(t *testing.T) {
			code, names, body := list(t, tt.token, tt.query)
			if code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", code, tt.wantCode, body)
			}
			if code == http.StatusOK && !slices.Equal(names, tt.want) {
				t.Errorf("listed %v, want %v", names, tt.want)
			}
			if code == http.StatusBadRequest && (!strings.Contains(body, `"field":"orderBy"`) || strings.Contains(body, "store:") ||
				!strings.Contains(body, "urutan tidak didukung")) {
				t.Errorf("violation does not name orderBy in Indonesian, or leaks internal text: %s", body)
			}
		})
	}

	// Page tokens are the server's own: a forged or altered one, or one taken from another
	// list, is a field violation on pageToken, never a page built on what it claims.
	code, body := do(t, "GET", base+"/v1/selections?pageSize=1", "", "")
	var page struct {
		NextPageToken string `json:"nextPageToken"`
		TotalSize     int    `json:"totalSize"`
	}
	if err := json.Unmarshal(body, &page); code != http.StatusOK || err != nil || page.NextPageToken == "" {
		t.Fatalf("first page of selections: %d %s", code, body)
	}
	raw, err := base64.RawURLEncoding.DecodeString(page.NextPageToken)
	if err != nil {
		t.Fatalf("page token is not base64url: %v", err)
	}
	altered := append([]byte{}, raw...)
	altered[len(altered)-2] ^= 1
	// The token's JSON, whatever precedes it, with the total claimed by a forger. The bytes
	// before it are opaque and may themselves hold a '{', so the JSON starts at the first
	// brace from which the rest parses.
	start := -1
	var claims map[string]any
	for i := range raw {
		if raw[i] == '{' && json.Unmarshal(raw[i:], &claims) == nil {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatalf("page token holds no JSON: %q", raw)
	}
	claims["t"] = 999999
	inflated, _ := json.Marshal(claims)
	forged := base64.RawURLEncoding.EncodeToString(append(append([]byte{}, raw[:start]...), inflated...))
	adminToken := mint("admin-1", auth.RoleAdmin)
	for _, tt := range []struct{ name, path, token string }{
		{"forged", "/v1/selections?pageSize=1&pageToken=" + forged, ""},
		{"altered", "/v1/selections?pageSize=1&pageToken=" + base64.RawURLEncoding.EncodeToString(altered), ""},
		{"under another filter", "/v1/selections?pageSize=1&filter=agency%3DLain&pageToken=" + page.NextPageToken, ""},
		{"on another list", sel + "/applications?pageSize=1&pageToken=" + page.NextPageToken, adminToken},
	} {
		t.Run("page token: "+tt.name, func(t *testing.T) {
			code, body := do(t, "GET", base+tt.path, "", tt.token)
			if code != http.StatusBadRequest || !strings.Contains(string(body), `"field":"pageToken"`) || strings.Contains(string(body), "999999") ||
				strings.Contains(string(body), "store:") {
				t.Errorf("%d %s, want 400 naming pageToken without internal text", code, body)
			}
		})
	}
	if code, body := do(t, "GET", base+"/v1/selections?pageSize=1&pageToken="+page.NextPageToken, "", ""); code != http.StatusOK {
		t.Errorf("the genuine token: %d %s", code, body)
	}
}
