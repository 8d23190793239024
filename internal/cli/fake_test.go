package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net"
	"path"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
)

// call is one request a fake service received.
type call struct {
	method string // short name, such as "AdvanceSelection"
	req    proto.Message
	md     metadata.MD
}

// recorder is shared by the fake services: it keeps every request with its metadata and
// answers with a test's override or the service's default answer.
type recorder struct {
	mu    sync.Mutex
	calls []call
	// reply overrides the answer of a method, by short name.
	reply map[string]func(req proto.Message) (proto.Message, error)
	// export overrides what ExportHistory streams, and the error it ends with; bundle is the
	// archive it streams otherwise.
	export func(req *seleksiv1.ExportHistoryRequest) ([]*seleksiv1.ExportHistoryResponse, error)
	bundle []byte
}

func (r *recorder) Calls() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// answer records req and returns the override's answer, or def.
func answer[T proto.Message](ctx context.Context, r *recorder, req proto.Message, def T) (T, error) {
	full, _ := grpc.Method(ctx)
	md, _ := metadata.FromIncomingContext(ctx)
	method := path.Base(full)
	r.mu.Lock()
	r.calls = append(r.calls, call{method: method, req: proto.Clone(req), md: md.Copy()})
	h := r.reply[method]
	r.mu.Unlock()
	if h == nil {
		return def, nil
	}
	resp, err := h(req)
	if err != nil {
		var zero T
		return zero, err
	}
	return resp.(T), nil
}

type fakeSelections struct {
	seleksiv1.UnimplementedSelectionServiceServer
	r *recorder
}

func (f *fakeSelections) CreateSelection(ctx context.Context, req *seleksiv1.CreateSelectionRequest) (*seleksiv1.CreateSelectionResponse, error) {
	sel := proto.Clone(req.GetSelection()).(*seleksiv1.Selection)
	sel.Name, sel.Stage = "selections/"+req.GetSelectionId(), seleksiv1.Stage_STAGE_ANNOUNCEMENT
	return answer(ctx, f.r, req, &seleksiv1.CreateSelectionResponse{Selection: sel})
}

func (f *fakeSelections) GetSelection(ctx context.Context, req *seleksiv1.GetSelectionRequest) (*seleksiv1.GetSelectionResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.GetSelectionResponse{Selection: &seleksiv1.Selection{
		Name: req.GetName(), PositionTitle: "Kepala Dinas Pendidikan", Stage: seleksiv1.Stage_STAGE_INTERVIEW,
		ApplicationCounts: &seleksiv1.ApplicationCounts{Total: 6, InProgress: 4, Eliminated: 2},
	}})
}

func (f *fakeSelections) ListSelections(ctx context.Context, req *seleksiv1.ListSelectionsRequest) (*seleksiv1.ListSelectionsResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.ListSelectionsResponse{
		Selections:    []*seleksiv1.Selection{{Name: "selections/s-one", PositionTitle: "Kepala Dinas"}},
		NextPageToken: "next-page", TotalSize: 2,
	})
}

func (f *fakeSelections) AdvanceSelection(ctx context.Context, req *seleksiv1.AdvanceSelectionRequest) (*seleksiv1.AdvanceSelectionResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.AdvanceSelectionResponse{
		Selection:       &seleksiv1.Selection{Name: req.GetName(), Stage: req.GetExpectedStage() + 1},
		PublishedResult: &seleksiv1.StageResult{Name: req.GetName() + "/results/x", Stage: req.GetExpectedStage(), Revision: 1},
	})
}

func (f *fakeSelections) RecordResults(ctx context.Context, req *seleksiv1.RecordResultsRequest) (*seleksiv1.RecordResultsResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.RecordResultsResponse{
		RecordedCount: uint32(len(req.GetResults())), Selection: &seleksiv1.Selection{Name: req.GetName(), Stage: req.GetStage()},
	})
}

func (f *fakeSelections) DeclareConflict(ctx context.Context, req *seleksiv1.DeclareConflictRequest) (*seleksiv1.DeclareConflictResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.DeclareConflictResponse{Conflict: &seleksiv1.Conflict{
		MemberId: req.GetMemberId(), Application: req.GetApplication(), Relationship: req.GetRelationship(),
	}})
}

func (f *fakeSelections) DecideSelection(ctx context.Context, req *seleksiv1.DecideSelectionRequest) (*seleksiv1.DecideSelectionResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.DecideSelectionResponse{Selection: &seleksiv1.Selection{Name: req.GetName()}})
}

func (f *fakeSelections) AppointCandidate(ctx context.Context, req *seleksiv1.AppointCandidateRequest) (*seleksiv1.AppointCandidateResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.AppointCandidateResponse{Selection: &seleksiv1.Selection{
		Name: req.GetName(), Stage: seleksiv1.Stage_STAGE_CLOSED, AppointedApplication: req.GetApplication(),
	}})
}

func (f *fakeSelections) CancelSelection(ctx context.Context, req *seleksiv1.CancelSelectionRequest) (*seleksiv1.CancelSelectionResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.CancelSelectionResponse{Selection: &seleksiv1.Selection{
		Name: req.GetName(), Stage: seleksiv1.Stage_STAGE_CANCELLED, CancelReason: req.GetReason(),
	}})
}

func (f *fakeSelections) ResumeSelection(ctx context.Context, req *seleksiv1.ResumeSelectionRequest) (*seleksiv1.ResumeSelectionResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.ResumeSelectionResponse{Selection: &seleksiv1.Selection{
		Name: req.GetName(), Stage: seleksiv1.Stage_STAGE_ANNOUNCEMENT,
		Blocked: &seleksiv1.SelectionBlocked{Reason: "CalendarNotCovered", Message: "jangka waktu mencapai tahun 2027", Attempts: 2},
	}})
}

func (f *fakeSelections) GetStageResult(ctx context.Context, req *seleksiv1.GetStageResultRequest) (*seleksiv1.GetStageResultResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.GetStageResultResponse{Result: &seleksiv1.StageResult{
		Name: req.GetName(), Revision: 1, ScoresPublished: true,
		Entries: []*seleksiv1.StageResultEntry{{Application: "selections/s-one/applications/a-1", CandidateName: "Rina",
			Outcome: seleksiv1.Outcome_OUTCOME_PASS, Scores: []*seleksiv1.ComponentScore{{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW, Score: 81.5}}}},
	}})
}

type fakeApplications struct {
	seleksiv1.UnimplementedApplicationServiceServer
	r *recorder
}

// statusApplication is the application the fake returns, with a status text in both
// languages so tests can see which one the CLI shows.
func statusApplication(name string) *seleksiv1.Application {
	return &seleksiv1.Application{
		Name: name, State: seleksiv1.ApplicationState_APPLICATION_STATE_IN_PROGRESS,
		CurrentStage: seleksiv1.Stage_STAGE_INTERVIEW,
		Candidate:    &seleksiv1.CandidateProfile{FullName: "Dr. Rina Kusumawati"},
		StatusText:   &seleksiv1.LocalizedText{Id: "Lolos uji kompetensi; menunggu wawancara", En: "Passed the competency test; awaiting the interview"},
		StageResults: []*seleksiv1.ApplicationStageResult{{
			Stage: seleksiv1.Stage_STAGE_COMPETENCY_TEST, Outcome: seleksiv1.Outcome_OUTCOME_PASS, Published: true,
			Scores: []*seleksiv1.ComponentScore{{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, Score: 81.25}},
		}},
	}
}

func (f *fakeApplications) SubmitApplication(ctx context.Context, req *seleksiv1.SubmitApplicationRequest) (*seleksiv1.SubmitApplicationResponse, error) {
	app := proto.Clone(req.GetApplication()).(*seleksiv1.Application)
	app.Name = req.GetParent() + "/applications/a-1"
	return answer(ctx, f.r, req, &seleksiv1.SubmitApplicationResponse{Application: app})
}

func (f *fakeApplications) GetApplication(ctx context.Context, req *seleksiv1.GetApplicationRequest) (*seleksiv1.GetApplicationResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.GetApplicationResponse{Application: statusApplication(req.GetName())})
}

func (f *fakeApplications) ListApplications(ctx context.Context, req *seleksiv1.ListApplicationsRequest) (*seleksiv1.ListApplicationsResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.ListApplicationsResponse{
		Applications: []*seleksiv1.Application{statusApplication(req.GetParent() + "/applications/a-1")},
	})
}

func (f *fakeApplications) WithdrawApplication(ctx context.Context, req *seleksiv1.WithdrawApplicationRequest) (*seleksiv1.WithdrawApplicationResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.WithdrawApplicationResponse{Application: &seleksiv1.Application{
		Name: req.GetName(), State: seleksiv1.ApplicationState_APPLICATION_STATE_WITHDRAWN,
	}})
}

func (f *fakeApplications) ReplaceDocument(ctx context.Context, req *seleksiv1.ReplaceDocumentRequest) (*seleksiv1.ReplaceDocumentResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.ReplaceDocumentResponse{Application: &seleksiv1.Application{
		Name: req.GetName(), Documents: []*seleksiv1.DocumentRef{{Kind: req.GetKind(), Document: req.GetDocument()}},
	}})
}

func (f *fakeApplications) FileObjection(ctx context.Context, req *seleksiv1.FileObjectionRequest) (*seleksiv1.FileObjectionResponse, error) {
	o := proto.Clone(req.GetObjection()).(*seleksiv1.Objection)
	o.Name, o.State = req.GetParent()+"/objections/o-1", seleksiv1.ObjectionState_OBJECTION_STATE_PENDING
	return answer(ctx, f.r, req, &seleksiv1.FileObjectionResponse{Objection: o})
}

func (f *fakeApplications) ListObjections(ctx context.Context, req *seleksiv1.ListObjectionsRequest) (*seleksiv1.ListObjectionsResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.ListObjectionsResponse{})
}

func (f *fakeApplications) AnswerObjection(ctx context.Context, req *seleksiv1.AnswerObjectionRequest) (*seleksiv1.AnswerObjectionResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.AnswerObjectionResponse{Objection: &seleksiv1.Objection{
		Name: req.GetName(), Answer: req.GetAnswer(), State: seleksiv1.ObjectionState_OBJECTION_STATE_ACCEPTED,
	}})
}

type fakeAudit struct {
	seleksiv1.UnimplementedAuditServiceServer
	r *recorder
}

func (f *fakeAudit) ListAuditEvents(ctx context.Context, req *seleksiv1.ListAuditEventsRequest) (*seleksiv1.ListAuditEventsResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.ListAuditEventsResponse{AuditEvents: []*seleksiv1.AuditEvent{{
		Name: req.GetParent() + "/auditEvents/1", Sequence: 1, ActorSubject: "admin-1", Role: seleksiv1.Role_ROLE_ADMIN,
		Action: "selection.create", Target: req.GetParent(),
	}}})
}

// exportMessages is the stream ExportHistory sends for an archive: the header, the archive in
// chunks of chunk bytes, and the trailer with its size and SHA-256.
func exportMessages(data []byte, chunk int) []*seleksiv1.ExportHistoryResponse {
	msgs := []*seleksiv1.ExportHistoryResponse{{Content: &seleksiv1.ExportHistoryResponse_Header{Header: &seleksiv1.BundleHeader{
		ContentType: "application/zip", FileName: "s-one-20261123T220000Z.bundle.zip",
		KeyId: audit.KeyFingerprint(auditTestKey("server").Public().(ed25519.PublicKey)), SignatureAlgorithm: "EdDSA",
	}}}}
	for off := 0; off < len(data); off += chunk {
		msgs = append(msgs, &seleksiv1.ExportHistoryResponse{Content: &seleksiv1.ExportHistoryResponse_Chunk{Chunk: data[off:min(off+chunk, len(data))]}})
	}
	sum := sha256.Sum256(data)
	return append(msgs, &seleksiv1.ExportHistoryResponse{Content: &seleksiv1.ExportHistoryResponse_Trailer{Trailer: &seleksiv1.BundleTrailer{
		SizeBytes: int64(len(data)), Sha256: hex.EncodeToString(sum[:])}}})
}

// ExportHistory streams the recorder's export: its override's messages and error, or the
// signed bundle of the happy path.
func (f *fakeAudit) ExportHistory(req *seleksiv1.ExportHistoryRequest, stream grpc.ServerStreamingServer[seleksiv1.ExportHistoryResponse]) error {
	ctx := stream.Context()
	full, _ := grpc.Method(ctx)
	md, _ := metadata.FromIncomingContext(ctx)
	f.r.mu.Lock()
	f.r.calls = append(f.r.calls, call{method: path.Base(full), req: proto.Clone(req), md: md.Copy()})
	reply, def := f.r.export, f.r.bundle
	f.r.mu.Unlock()
	msgs, err := exportMessages(def, 64<<10), error(nil)
	if reply != nil {
		msgs, err = reply(req)
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	return err
}

func (f *fakeAudit) VerifySelection(ctx context.Context, req *seleksiv1.VerifySelectionRequest) (*seleksiv1.VerifySelectionResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.VerifySelectionResponse{Report: &seleksiv1.VerificationReport{Ok: true, EventsChecked: 12}})
}

// GetSigningKey publishes the key the test bundles are signed with.
func (f *fakeAudit) GetSigningKey(ctx context.Context, req *seleksiv1.GetSigningKeyRequest) (*seleksiv1.GetSigningKeyResponse, error) {
	pub := auditTestKey("server").Public().(ed25519.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return answer(ctx, f.r, req, &seleksiv1.GetSigningKeyResponse{
		KeyId: audit.KeyFingerprint(pub), Algorithm: "EdDSA", PublicKeyPem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	})
}

type fakeNotifications struct {
	seleksiv1.UnimplementedNotificationServiceServer
	r *recorder
}

func (f *fakeNotifications) ListNotifications(ctx context.Context, req *seleksiv1.ListNotificationsRequest) (*seleksiv1.ListNotificationsResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.ListNotificationsResponse{Notifications: []*seleksiv1.Notification{{
		Name: "notifications/n-1", Selection: "selections/s-one", Application: "selections/s-one/applications/a-1",
		State: seleksiv1.NotificationState_NOTIFICATION_STATE_DEAD, Attempts: 20, LastError: "mail relay RCPT TO: 451 try later",
	}}, TotalSize: 1})
}

func (f *fakeNotifications) RetryNotification(ctx context.Context, req *seleksiv1.RetryNotificationRequest) (*seleksiv1.RetryNotificationResponse, error) {
	return answer(ctx, f.r, req, &seleksiv1.RetryNotificationResponse{Notification: &seleksiv1.Notification{
		Name: req.GetName(), State: seleksiv1.NotificationState_NOTIFICATION_STATE_PENDING,
	}})
}

// fakeServer serves the fakes on a loopback port, so the CLI dials it exactly as it
// dials seleksid; opts configure the server (TLS).
func fakeServer(t *testing.T, opts ...grpc.ServerOption) (*recorder, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{reply: map[string]func(proto.Message) (proto.Message, error){}, bundle: signedBundle(t, "happy-path")}
	s := grpc.NewServer(opts...)
	seleksiv1.RegisterSelectionServiceServer(s, &fakeSelections{r: r})
	seleksiv1.RegisterApplicationServiceServer(s, &fakeApplications{r: r})
	seleksiv1.RegisterAuditServiceServer(s, &fakeAudit{r: r})
	seleksiv1.RegisterNotificationServiceServer(s, &fakeNotifications{r: r})
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return r, lis.Addr().String()
}

// result is what one run of the CLI produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs seleksictl against the server at addr with env as its whole environment.
func runCLI(t *testing.T, addr string, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &App{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string {
			if k == "SELEKSI_SERVER" && addr != "" {
				return addr
			}
			return env[k]
		},
	}
	code := app.Run(context.Background(), args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}
