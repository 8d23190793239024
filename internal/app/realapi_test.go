package app

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	enumspb "go.temporal.io/api/enums/v1"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/accounts/oidc"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/keys"
	"github.com/bkpsdm/seleksi/internal/official"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/telemetry"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// realAPI is the API as seleksid serves it (the gRPC server with every real handler and
// interceptor, the gateway in front) over a real store; Temporal is replaced by fakes that
// accept every command and have no histories.
type realAPI struct {
	tr    *Transport
	store *store.Store
	// blobs holds the documents' contents.
	blobs    *blob.FS
	accounts *accounts.Service
	// key is the local key the API trusts (it mints tokens for any subject).
	key *auth.LocalKey
	// official signs and checks official documents (issued in tests with an official.Issuer).
	official *official.Ed25519Signer
	base     string
	// tokens by role; the committee token sits on selOpen.
	admin, committee, candidate, auditor string
}

// selOpen is the selection realAPI creates, with its announcement window open and one
// application, appOpen, by the candidate.
const selOpen = "sel-open"

var appOpen string

// realAPIOption changes what startRealAPI builds.
type realAPIOption func(*realAPIOptions)

type realAPIOptions struct {
	// signIn is sign-in through an OpenID provider for the web application.
	signIn *oidc.Provider
	// workflows replaces the Temporal fake that accepts every command.
	workflows server.Workflows
	// audit, when set, replaces the audit service with what it makes of the real one.
	audit func(seleksiv1.AuditServiceServer) seleksiv1.AuditServiceServer
	// telemetry counts the calls and serves /metrics on the HTTP address.
	telemetry *telemetry.Telemetry
}

// withTelemetry has the transport count and trace its calls with tel and serve /metrics.
func withTelemetry(tel *telemetry.Telemetry) realAPIOption {
	return func(o *realAPIOptions) { o.telemetry = tel }
}

// withAudit has the API serve what wrap makes of the real audit service (a verification
// with findings, an export stream), for the auditor's pages.
func withAudit(wrap func(seleksiv1.AuditServiceServer) seleksiv1.AuditServiceServer) realAPIOption {
	return func(o *realAPIOptions) { o.audit = wrap }
}

// withWorkflows has the API send its commands to wf instead of acceptingWorkflows.
func withWorkflows(wf server.Workflows) realAPIOption {
	return func(o *realAPIOptions) { o.workflows = wf }
}

func startRealAPI(t testing.TB, storeURL string, deadlines server.Deadlines, opts ...realAPIOption) *realAPI {
	t.Helper()
	var o realAPIOptions
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: selOpen, RequestID: "create-" + selOpen, WorkflowID: workflows.WorkflowID(selOpen),
		PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
		Committee: []store.CommitteeMember{{MemberID: "member-1", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
		Actor:     store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: workflows.WorkflowID(selOpen), SelectionID: selOpen, Key: "window-1",
		Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(24 * time.Hour), ClosesWall: now.Add(24 * time.Hour)}}, now); err != nil {
		t.Fatal(err)
	}
	owner, err := st.ActorID(ctx, auth.LocalIssuer, "cand-a")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: selOpen, RequestID: "submit-cand-a", Owner: owner,
		Candidate: store.Candidate{Subject: "cand-a", FullName: "Calon A", NIP: "197505052000011001", Email: "a@example.id", BirthDate: "1975-05-05"},
		Now:       now})
	if err != nil {
		t.Fatal(err)
	}
	appOpen = a.ID

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
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	// Passwords are hashed cheaply: the tests sign in many times under the race detector.
	accts := accounts.New(st, accounts.Options{Argon2: &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}}, logger)
	// The API and the upload handler verify bearer tokens as seleksid does: the local key's and the accounts'
	// personal access tokens.
	verifier, err := newVerifier(config.Config{}, key, accts)
	if err != nil {
		t.Fatal(err)
	}
	// Documents: real storage on disk and the real upload handler, for the candidate pages.
	blobs, err := blob.NewFS(filepath.Join(dir, "documents"))
	if err != nil {
		t.Fatal(err)
	}
	uploads, err := documents.NewUploads(st, blobs, documents.ScanInspector{}, verifier, cat, logger,
		documents.UploadOptions{Dir: filepath.Join(dir, "uploads"), BasePath: UploadsPath})
	if err != nil {
		t.Fatal(err)
	}
	var wf server.Workflows = acceptingWorkflows{}
	if o.workflows != nil {
		wf = o.workflows
	}
	appSrv := server.NewApplicationServer(st, wf, cat, logger, nil)
	appSrv.UseDocuments(server.NewStoreDocumentChecker(st))
	var auditSrv seleksiv1.AuditServiceServer
	auditSrv, err = server.NewAuditServer(st, unreachableHistory{}, key.Signer(), key.Public(), logger, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if o.audit != nil {
		auditSrv = o.audit(auditSrv)
	}
	officialKey, err := keys.LoadOrCreateEd25519(dir, OfficialKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	officialSigner, err := official.NewEd25519Signer(officialKey)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTransport(ctx, logger, "127.0.0.1:0", "127.0.0.1:0", verifier, server.Services{
		Selection:    server.NewSelectionServer(st, wf, cat, logger, server.SelectionOptions{TaskQueue: "q"}),
		Application:  appSrv,
		Audit:        auditSrv,
		Notification: server.NewNotificationServer(st, cat, logger),
		Document:     server.NewDocumentServer(st, blobs, logger, time.Now),
		Official:     server.NewOfficialDocumentServer(st, official.NewRegisteredKeys(st), logger),
		Schedule:     server.NewScheduleServer(st, logger, time.Now),
		Attendance:   server.NewAttendanceServer(st, wf, cat, logger, time.Now),
		Report:       server.NewReportServer(st, cat, logger, time.Now),
	}, WithDeadlines(deadlines), WithTelemetry(o.telemetry, o.telemetry != nil), WithUploads(func(l documents.Limiter) http.Handler { return uploads.LimitedBy(l) }),
		WithWeb(func(conn grpc.ClientConnInterface) (http.Handler, error) {
			return web.New(web.Options{Conn: conn, Sessions: st.Sessions(time.Now), Minter: webMinter{key: key, ttl: webTokenTTL, accounts: accts},
				Logger: logger, Accounts: accts, Messages: cat, OIDC: o.signIn, Uploads: uploads})
		}))
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tr.Shutdown(ctx)
	})
	return &realAPI{tr: tr, store: st, blobs: blobs, accounts: accts, key: key, official: officialSigner, base: "http://" + tr.HTTPAddr(),
		admin: mint("admin-1", auth.RoleAdmin), committee: mint("member-1", auth.RoleCommittee, selOpen),
		candidate: mint("cand-a", auth.RoleCandidate), auditor: mint("auditor-1", auth.RoleAuditor)}
}

// unreachableHistory is a Temporal cluster that cannot be reached, for the audit handlers.
type unreachableHistory struct{}

func (unreachableHistory) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	return nil, serviceerror.NewUnavailable("connection error: desc = \"transport: Error while dialing: dial tcp 10.9.8.7:7233: connect: connection refused\"")
}

func (unreachableHistory) GetWorkflowHistory(context.Context, string, string, bool, enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return nil
}
