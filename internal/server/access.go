package server

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// access says who may call one RPC. Ownership (a candidate's own application) needs the
// store and is checked in the handler; membership of a committee is checked here from the
// selection the request names.
type access struct {
	// public methods need no token; a valid token still identifies the caller.
	public bool
	roles  []auth.Role
}

// accessRules is the one table of who may call what. A method missing here is denied to
// everyone, so a new RPC is closed until someone decides who may use it.
func accessRules() map[string]access {
	var (
		admin     = auth.RoleAdmin
		committee = auth.RoleCommittee
		candidate = auth.RoleCandidate
		auditor   = auth.RoleAuditor
		public    = access{public: true}
	)
	return map[string]access{
		seleksiv1.SelectionService_CreateSelection_FullMethodName:  {roles: []auth.Role{admin}},
		seleksiv1.SelectionService_GetSelection_FullMethodName:     public,
		seleksiv1.SelectionService_ListSelections_FullMethodName:   public,
		seleksiv1.SelectionService_GetStageResult_FullMethodName:   public,
		seleksiv1.SelectionService_AdvanceSelection_FullMethodName: {roles: []auth.Role{committee}},
		seleksiv1.SelectionService_RecordResults_FullMethodName:    {roles: []auth.Role{committee}},
		seleksiv1.SelectionService_CorrectResult_FullMethodName:    {roles: []auth.Role{committee}},
		seleksiv1.SelectionService_DeclareConflict_FullMethodName:  {roles: []auth.Role{committee}},
		seleksiv1.SelectionService_DecideSelection_FullMethodName:  {roles: []auth.Role{committee}},
		seleksiv1.SelectionService_AppointCandidate_FullMethodName: {roles: []auth.Role{admin}},
		seleksiv1.SelectionService_CancelSelection_FullMethodName:  {roles: []auth.Role{admin}},
		seleksiv1.SelectionService_SupplyHolidays_FullMethodName:   {roles: []auth.Role{admin}},
		seleksiv1.SelectionService_ResumeSelection_FullMethodName:  {roles: []auth.Role{admin}},

		seleksiv1.ApplicationService_SubmitApplication_FullMethodName:   {roles: []auth.Role{candidate}},
		seleksiv1.ApplicationService_GetApplication_FullMethodName:      {roles: []auth.Role{candidate, committee, admin, auditor}},
		seleksiv1.ApplicationService_ListApplications_FullMethodName:    {roles: []auth.Role{candidate, committee, admin, auditor}},
		seleksiv1.ApplicationService_WithdrawApplication_FullMethodName: {roles: []auth.Role{candidate}},
		seleksiv1.ApplicationService_ReplaceDocument_FullMethodName:     {roles: []auth.Role{candidate}},
		seleksiv1.ApplicationService_FileObjection_FullMethodName:       {roles: []auth.Role{candidate}},
		seleksiv1.ApplicationService_ListObjections_FullMethodName:      {roles: []auth.Role{candidate, committee, admin, auditor}},
		seleksiv1.ApplicationService_AnswerObjection_FullMethodName:     {roles: []auth.Role{committee}},

		seleksiv1.AuditService_ListAuditEvents_FullMethodName: {roles: []auth.Role{auditor}},
		seleksiv1.AuditService_ExportHistory_FullMethodName:   {roles: []auth.Role{auditor}},
		seleksiv1.AuditService_VerifySelection_FullMethodName: {roles: []auth.Role{auditor}},
		seleksiv1.AuditService_GetSigningKey_FullMethodName:   public,

		// The outbox names applications, not people; auditors may see what the service told
		// candidates and what it failed to, but only the secretariat retries.
		seleksiv1.NotificationService_ListNotifications_FullMethodName: {roles: []auth.Role{admin, auditor, candidate}},
		seleksiv1.NotificationService_RetryNotification_FullMethodName: {roles: []auth.Role{admin}},
		// Everyone chooses the channels they are told on, their own only (the name is
		// always accounts/me).
		seleksiv1.NotificationService_GetNotificationPreferences_FullMethodName:    {roles: []auth.Role{candidate, committee, admin, auditor}},
		seleksiv1.NotificationService_UpdateNotificationPreferences_FullMethodName: {roles: []auth.Role{candidate, committee, admin, auditor}},

		// Documents: candidates their own, the selection's committee (checked in the
		// handler, since a document names no selection), the secretariat and auditors;
		// nothing is public. Who read a document is for its owner, the secretariat and
		// auditors (the owner checked in the handler).
		seleksiv1.DocumentService_GetDocument_FullMethodName:          {roles: []auth.Role{candidate, committee, admin, auditor}},
		seleksiv1.DocumentService_ListDocuments_FullMethodName:        {roles: []auth.Role{candidate, committee, admin, auditor}},
		seleksiv1.DocumentService_DownloadDocument_FullMethodName:     {roles: []auth.Role{candidate, committee, admin, auditor}},
		seleksiv1.DocumentService_ListDocumentAccesses_FullMethodName: {roles: []auth.Role{candidate, admin, auditor}},

		// Official documents are public announcements (they state nothing personal beyond the
		// published results), and so are the keys that check them; why a document is late is
		// for operators.
		seleksiv1.OfficialDocumentService_GetOfficialDocument_FullMethodName:      public,
		seleksiv1.OfficialDocumentService_ListOfficialDocuments_FullMethodName:    public,
		seleksiv1.OfficialDocumentService_ListOfficialDocumentKeys_FullMethodName: public,
		seleksiv1.OfficialDocumentService_ListOfficialDocumentJobs_FullMethodName: {roles: []auth.Role{admin, auditor}},
		// Schedules (issue 13): the secretariat plans and places; the committee and auditors
		// read; a candidate reads their own places (the handler keeps them to those).
		seleksiv1.ScheduleService_CreateSession_FullMethodName:   {roles: []auth.Role{admin}},
		seleksiv1.ScheduleService_ListSessions_FullMethodName:    {roles: []auth.Role{admin, committee, auditor}},
		seleksiv1.ScheduleService_AssignSessions_FullMethodName:  {roles: []auth.Role{admin}},
		seleksiv1.ScheduleService_MoveAssignment_FullMethodName:  {roles: []auth.Role{admin}},
		seleksiv1.ScheduleService_ListAssignments_FullMethodName: {roles: []auth.Role{candidate, committee, admin, auditor}},
		// A candidate confirms or asks to move their own place (the handler checks the owner);
		// the committee or the secretariat answers.
		seleksiv1.ScheduleService_ConfirmAttendance_FullMethodName: {roles: []auth.Role{candidate}},
		seleksiv1.ScheduleService_RequestReschedule_FullMethodName: {roles: []auth.Role{candidate}},
		seleksiv1.ScheduleService_AcceptReschedule_FullMethodName:  {roles: []auth.Role{admin, committee}},
		seleksiv1.ScheduleService_RefuseReschedule_FullMethodName:  {roles: []auth.Role{admin, committee}},
		// Attendance: the committee of the selection (committee scoping) or the secretariat
		// records who came; only the secretariat sets what absence does in a stage.
		seleksiv1.AttendanceService_RecordAttendance_FullMethodName: {roles: []auth.Role{admin, committee}},
		seleksiv1.AttendanceService_ListAttendance_FullMethodName:   {roles: []auth.Role{admin, committee, auditor}},
		seleksiv1.AttendanceService_GetAbsencePolicy_FullMethodName: {roles: []auth.Role{admin, committee, auditor}},
		seleksiv1.AttendanceService_SetAbsencePolicy_FullMethodName: {roles: []auth.Role{admin}},
		// Reports hold unpublished scores and the secretariat's view of every selection:
		// never public, never for candidates. Committee members see the selections they sit
		// on (the name is checked by committee scoping); the dashboard covers all selections
		// and is for the secretariat and auditors.
		seleksiv1.ReportService_GetScoreRecap_FullMethodName:            {roles: []auth.Role{committee, admin, auditor}},
		seleksiv1.ReportService_ExportScoreRecap_FullMethodName:         {roles: []auth.Role{committee, admin, auditor}},
		seleksiv1.ReportService_GetMeritComplianceReport_FullMethodName: {roles: []auth.Role{committee, admin, auditor}},
		seleksiv1.ReportService_GetDashboard_FullMethodName:             {roles: []auth.Role{admin, auditor}},
	}
}

// infrastructure methods (health checks, reflection) carry no Seleksi data and are open.
func infrastructure(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
}

// authenticateUnary verifies the bearer token and the caller's role before anything else
// looks at the request, so an anonymous caller learns nothing, not even validation rules.
func authenticateUnary(logger *slog.Logger, v auth.Verifier, rules map[string]access, limiter Limiter) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if infrastructure(info.FullMethod) {
			return handler(ctx, req)
		}
		rule, ok := rules[info.FullMethod]
		if !ok {
			return nil, localizedError(ctx, codes.PermissionDenied, msgNoRule)
		}
		token := bearer(ctx)
		if token == "" && rule.public {
			return handler(ctx, req)
		}
		p, err := v.Verify(ctx, token)
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthenticated) {
				logger.ErrorContext(ctx, "token verification failed", "error", err)
				return nil, localizedError(ctx, codes.Unavailable, msgIdentityDown)
			}
			if limiter != nil {
				if lerr := limiter.RejectedToken(ctx); lerr != nil {
					// A flood of bad tokens: the limiter reports it in aggregate.
					return nil, lerr
				}
			}
			logger.InfoContext(ctx, "rejected token", "method", info.FullMethod, "reason", err.Error())
			return nil, localizedError(ctx, codes.Unauthenticated, msgUnauthenticated)
		}
		if !rule.public && !slices.Contains(rule.roles, p.Role) {
			return nil, localizedError(ctx, codes.PermissionDenied, msgWrongRole)
		}
		return handler(auth.WithPrincipal(ctx, p), req)
	}
}

// admitUnary holds an authenticated caller to the limits of its subject, after
// authentication (which names the subject) and before validation and the handler do work.
func admitUnary(limiter Limiter) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if limiter != nil {
			if p, ok := auth.FromContext(ctx); ok {
				if err := limiter.Admit(ctx, info.FullMethod, p); err != nil {
					return nil, err
				}
			}
		}
		return handler(ctx, req)
	}
}

// committeeScopeUnary keeps committee members to the selections they sit on, for every
// non-public request that names a selection (in its name or parent). It runs after
// validation, so the resource name is well formed.
func committeeScopeUnary(rules map[string]access) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		p, ok := auth.FromContext(ctx)
		if !ok || p.Role != auth.RoleCommittee || rules[info.FullMethod].public {
			return handler(ctx, req)
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		if id := selectionOf(msg); id != "" && !p.SitsOn(id) {
			return nil, localizedError(ctx, codes.PermissionDenied, msgNotOnCommittee)
		}
		return handler(ctx, req)
	}
}

// selectionOf returns the selection ID a request names through its name or parent field.
func selectionOf(msg proto.Message) string {
	m := msg.ProtoReflect()
	for _, field := range []protoreflect.Name{"name", "parent"} {
		fd := m.Descriptor().Fields().ByName(field)
		if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
			continue
		}
		rest, ok := strings.CutPrefix(m.Get(fd).String(), "selections/")
		if !ok {
			continue
		}
		id, _, _ := strings.Cut(rest, "/")
		return id
	}
	return ""
}

// bearer extracts the token from the authorization metadata (the gateway forwards the HTTP
// Authorization header there).
func bearer(ctx context.Context) string {
	// ValueFromIncomingContext copies the one key's values where FromIncomingContext copies
	// every header the gateway forwarded, at every call.
	for _, v := range metadata.ValueFromIncomingContext(ctx, "authorization") {
		if t, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		if t, ok := strings.CutPrefix(v, "bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}
