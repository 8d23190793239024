package app

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/demo"
	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/web"
)

// lockedBuffer is a log both the seed and the test touch.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestDemoSeed: the demonstration seed (seleksid -demo) against the real API, on SQLite and
// PostgreSQL. It creates the nine accounts, confirmed and signing in with the printed
// password; it creates the sample selection through gRPC CreateSelection as the secretariat,
// so the definition passed the API's validation (committee rules, weights, documents), and
// its committee's member IDs are the committee accounts' subjects; it links the five seats,
// so a committee account's web token sits on the selection and the committee-only calls on
// it are allowed (and refused to the same member's token without the seat); the chair signs
// in to the pages with the printed password and opens the printed selection page. A second
// run creates nothing and prints the same sign-in list.
func TestDemoSeed(t *testing.T) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "seleksi.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.SchemaURL(t) }},
	} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testDemoSeed(t, d.url(t))
		})
	}
}

func testDemoSeed(t *testing.T, storeURL string) {
	ctx := context.Background()
	api := startRealAPI(t, storeURL, server.Deadlines{})
	conn, err := grpc.NewClient(api.tr.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	webURL, _ := url.Parse(api.base)
	seed := func() (demo.Result, string) {
		t.Helper()
		var logs lockedBuffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
		res, err := demo.Seed(ctx, demo.Options{Accounts: api.accounts, Conn: conn, Key: api.key, WebURL: webURL, Logger: logger})
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
		return res, logs.String()
	}
	first, printed := seed()
	if !first.Created || first.SelectionID != demo.SelectionID || first.SelectionURL != api.base+"/seleksi/"+demo.SelectionID {
		t.Fatalf("first seed: %+v", first)
	}

	// The accounts: one secretariat, five committee members, one auditor, two candidates,
	// every one confirmed, signing in with the printed password, and printed.
	roles := map[auth.Role]int{}
	var committee []demo.Account
	for _, a := range first.Accounts {
		roles[a.Role]++
		if !a.EmailConfirmed {
			t.Errorf("%s is not confirmed", a.Email)
		}
		if in, err := api.accounts.SignIn(ctx, a.Email, demo.Password); err != nil || in.ID != a.ID {
			t.Errorf("sign-in as %s: %+v, %v", a.Email, in, err)
		}
		if !strings.Contains(printed, "email="+a.Email+" password="+demo.Password) {
			t.Errorf("%s is not printed with the password:\n%s", a.Email, printed)
		}
		if a.Role == auth.RoleCommittee {
			committee = append(committee, a)
		}
	}
	if want := map[auth.Role]int{auth.RoleAdmin: 1, auth.RoleCommittee: 5, auth.RoleAuditor: 1, auth.RoleCandidate: 2}; !maps.Equal(roles, want) {
		t.Fatalf("roles %v, want %v", roles, want)
	}
	for _, want := range []string{"url=" + api.base + "\n", "url=" + first.SelectionURL, "level=WARN"} {
		if !strings.Contains(printed, want) {
			t.Errorf("the sign-in list has no %q:\n%s", want, printed)
		}
	}

	// The selection, as the API shows it: created through CreateSelection by the
	// secretariat's subject, its committee the committee accounts.
	sel, err := seleksiv1.NewSelectionServiceClient(conn).GetSelection(ctx, &seleksiv1.GetSelectionRequest{Name: "selections/" + demo.SelectionID})
	if err != nil {
		t.Fatalf("get the sample selection: %v", err)
	}
	s := sel.GetSelection()
	if s.GetPositionTitle() != "Kepala Dinas Pendidikan" || s.GetStage() != seleksiv1.Stage_STAGE_ANNOUNCEMENT || len(s.GetRequirements().GetRequiredDocuments()) == 0 {
		t.Errorf("sample selection %v", s)
	}
	var memberIDs, subjects []string
	chairs := 0
	for _, m := range s.GetCommittee() {
		memberIDs = append(memberIDs, m.GetMemberId())
		if m.GetRole() == seleksiv1.CommitteeRole_COMMITTEE_ROLE_CHAIR {
			chairs++
		}
	}
	for _, a := range committee {
		subjects = append(subjects, a.Subject)
	}
	slices.Sort(memberIDs)
	slices.Sort(subjects)
	if !slices.Equal(memberIDs, subjects) || chairs != 1 {
		t.Fatalf("committee member IDs %v (chairs %d), committee subjects %v", memberIDs, chairs, subjects)
	}
	if created, _, err := api.store.SelectionCreatedBy(ctx, "demo-seed-"+demo.SelectionID); err != nil || created != demo.SelectionID {
		t.Errorf("created by the demo's request: %q, %v", created, err)
	}

	// The seats, and what they give a committee account's web token.
	seats, err := api.accounts.SeatsOfSelection(ctx, demo.SelectionID)
	if err != nil || len(seats) != 5 {
		t.Fatalf("seats %+v, %v", seats, err)
	}
	chair := committee[0]
	minter := webMinter{key: api.key, ttl: time.Minute, accounts: api.accounts}
	tok, err := minter.Token(ctx, web.User{AccountID: chair.ID, Issuer: chair.Issuer, Subject: chair.Subject, Role: auth.RoleCommittee})
	if err != nil {
		t.Fatal(err)
	}
	p, err := api.key.Verifier(time.Now, 0).Verify(ctx, tok)
	if err != nil || p.Subject != chair.Subject || !p.SitsOn(demo.SelectionID) {
		t.Fatalf("the chair's web token: %+v, %v", p, err)
	}
	apps := seleksiv1.NewApplicationServiceClient(conn)
	list := func(token string) error {
		_, err := apps.ListApplications(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token),
			&seleksiv1.ListApplicationsRequest{Parent: "selections/" + demo.SelectionID})
		return err
	}
	if err := list(tok); err != nil {
		t.Errorf("the chair lists the sample selection's applications: %v", err)
	}
	unseated, err := api.key.Mint(auth.MintOptions{Subject: chair.Subject, Role: auth.RoleCommittee, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := list(unseated); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the chair without the seat: %v, want PermissionDenied", err)
	}

	// The chair signs in to the pages with the printed password and opens the printed page.
	v := newVisitor(t, api)
	v.get("/masuk")
	if code, body, _ := v.post("/masuk", url.Values{"email": {chair.Email}, "password": {demo.Password}}); code != http.StatusSeeOther {
		t.Fatalf("the chair's sign-in: HTTP %d\n%s", code, body)
	}
	code, body, _ := v.get(strings.TrimPrefix(first.SelectionURL, api.base))
	wantPage(t, "the sample selection's page for the chair", code, body, http.StatusOK, "Kepala Dinas Pendidikan")

	// A second run creates nothing and prints the same list.
	before, err := api.accounts.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	second, printedAgain := seed()
	if second.Created {
		t.Error("the second seed created the selection again")
	}
	if printedAgain != printed {
		t.Errorf("the second sign-in list differs:\n%s\nfirst:\n%s", printedAgain, printed)
	}
	after, err := api.accounts.List(ctx, "")
	if err != nil || len(after) != len(before) {
		t.Errorf("accounts %d after the second seed, %d before (%v)", len(after), len(before), err)
	}
	for i := range first.Accounts {
		if first.Accounts[i].ID != second.Accounts[i].ID {
			t.Errorf("account %d: %s, then %s", i, first.Accounts[i].ID, second.Accounts[i].ID)
		}
	}
	if seats, err := api.accounts.SeatsOfSelection(ctx, demo.SelectionID); err != nil || len(seats) != 5 {
		t.Errorf("seats after the second seed: %d, %v", len(seats), err)
	}
}
