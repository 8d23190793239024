package cli

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// requestIDOf returns the request_id field of any request that has one.
func requestIDOf(m proto.Message) (string, bool) {
	fd := m.ProtoReflect().Descriptor().Fields().ByName("request_id")
	if fd == nil {
		return "", false
	}
	return m.ProtoReflect().Get(fd).String(), true
}

func TestCommandsSendTheRightRequest(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		method string
		want   proto.Message // compared with the request, request_id aside
		check  func(t *testing.T, req proto.Message)
	}{
		{
			name: "selection create from YAML", method: "CreateSelection",
			args: []string{"selection", "create", "-f", "testdata/selection.yaml", "--id", "dinas-pendidikan-2026"},
			check: func(t *testing.T, req proto.Message) {
				r := req.(*seleksiv1.CreateSelectionRequest)
				s := r.GetSelection()
				if r.GetSelectionId() != "dinas-pendidikan-2026" || s.GetPositionTitle() != "Kepala Dinas Pendidikan" ||
					len(s.GetCommittee()) != 5 || s.GetTimeZone() != seleksiv1.TimeZone_TIME_ZONE_WIB ||
					s.GetScoreWeights().GetCompetencyTest() != 40 || s.GetCommittee()[1].GetPostLevel() != seleksiv1.PostLevel_POST_LEVEL_JPT_PRATAMA ||
					len(s.GetHolidayOverrides()) != 2 || s.GetHolidayOverrides()[0].GetDate() != "2026-12-24" ||
					s.GetHolidayOverrides()[1].GetDate() != "2027-01-01" {
					t.Errorf("request = %v", r)
				}
			},
		},
		{
			name: "selection get by ID", method: "GetSelection",
			args: []string{"selection", "get", "s-one"},
			want: &seleksiv1.GetSelectionRequest{Name: "selections/s-one"},
		},
		{
			name: "selection get by name", method: "GetSelection",
			args: []string{"selection", "get", "selections/s-one"},
			want: &seleksiv1.GetSelectionRequest{Name: "selections/s-one"},
		},
		{
			name: "selection list with paging", method: "ListSelections",
			args: []string{"selection", "list", "--filter", "stage = STAGE_INTERVIEW", "--page-size", "10", "--page-token", "tok", "--order-by", "position_title"},
			want: &seleksiv1.ListSelectionsRequest{Filter: "stage = STAGE_INTERVIEW", PageSize: 10, PageToken: "tok", OrderBy: "position_title"},
		},
		{
			name: "selection advance with a slug, flags after the ID", method: "AdvanceSelection",
			args: []string{"selection", "advance", "s-one", "--stage", "competency-test", "--reason", "hasil asesmen lengkap"},
			want: &seleksiv1.AdvanceSelectionRequest{Name: "selections/s-one", ExpectedStage: seleksiv1.Stage_STAGE_COMPETENCY_TEST, Reason: "hasil asesmen lengkap"},
		},
		{
			name: "selection advance with an enum name, flags before the ID", method: "AdvanceSelection",
			args: []string{"selection", "advance", "--stage", "STAGE_INTERVIEW", "s-one"},
			want: &seleksiv1.AdvanceSelectionRequest{Name: "selections/s-one", ExpectedStage: seleksiv1.Stage_STAGE_INTERVIEW},
		},
		{
			name: "selection decide ranks in flag order", method: "DecideSelection",
			args: []string{"selection", "decide", "s-one", "--rank", "a-one:nilai akhir tertinggi", "--rank",
				"selections/s-one/applications/a-two: rekam jejak terbaik", "--statement", "hanya dua yang memenuhi nilai minimal"},
			want: &seleksiv1.DecideSelectionRequest{Name: "selections/s-one", ShortfallStatement: "hanya dua yang memenuhi nilai minimal",
				Ranked: []*seleksiv1.RankedCandidate{
					{Application: "selections/s-one/applications/a-one", Rank: 1, Reason: "nilai akhir tertinggi"},
					{Application: "selections/s-one/applications/a-two", Rank: 2, Reason: "rekam jejak terbaik"},
				}},
		},
		{
			name: "selection appoint", method: "AppointCandidate",
			args: []string{"selection", "appoint", "s-one", "--application", "a-one", "--ppk-decree", "KEP-800/2026", "--oversight-ref", "R-12/KASN",
				"--justification", "rekam jejak di bidang kesehatan"},
			want: &seleksiv1.AppointCandidateRequest{Name: "selections/s-one", Application: "selections/s-one/applications/a-one",
				PpkDecreeRef: "KEP-800/2026", OversightRecommendationRef: "R-12/KASN", Justification: "rekam jejak di bidang kesehatan"},
		},
		{
			name: "selection cancel", method: "CancelSelection",
			args: []string{"selection", "cancel", "s-one", "--reason", "formasi dibatalkan"},
			want: &seleksiv1.CancelSelectionRequest{Name: "selections/s-one", Reason: "formasi dibatalkan"},
		},
		{
			name: "selection resume", method: "ResumeSelection",
			args: []string{"selection", "resume", "s-one", "--reason", "daftar libur 2027 dilengkapi"},
			want: &seleksiv1.ResumeSelectionRequest{Name: "selections/s-one", Reason: "daftar libur 2027 dilengkapi"},
		},
		{
			name: "selection results names the stage by slug", method: "GetStageResult",
			args: []string{"selection", "results", "s-one", "STAGE_ADMINISTRATIVE_SCREENING", "--revision", "2"},
			want: &seleksiv1.GetStageResultRequest{Name: "selections/s-one/results/administrative-screening", Revision: 2},
		},
		{
			name: "conflict declare", method: "DeclareConflict",
			args: []string{"conflict", "declare", "s-one", "--member", "m-chair", "--application", "a-one", "--relationship", "saudara kandung"},
			want: &seleksiv1.DeclareConflictRequest{Name: "selections/s-one", MemberId: "m-chair",
				Application: "selections/s-one/applications/a-one", Relationship: "saudara kandung"},
		},
		{
			name: "application submit from YAML", method: "SubmitApplication",
			args: []string{"application", "submit", "s-one", "-f", "testdata/application-documents.yaml"},
			check: func(t *testing.T, req proto.Message) {
				r := req.(*seleksiv1.SubmitApplicationRequest)
				c := r.GetApplication().GetCandidate()
				if r.GetParent() != "selections/s-one" || c.GetNip() != "197805122003122004" || c.GetBirthDate() != "1978-05-12" ||
					c.GetEducationLevel() != seleksiv1.EducationLevel_EDUCATION_LEVEL_DOCTORATE || len(r.GetApplication().GetDocuments()) != 3 ||
					r.GetApplication().GetDocuments()[0].GetDocument() != "documents/doc-lhkpnaaaaaaaaaaaa" {
					t.Errorf("request = %v", r)
				}
			},
		},
		{
			name: "application get by short name", method: "GetApplication",
			args: []string{"application", "get", "s-one/a-one"},
			want: &seleksiv1.GetApplicationRequest{Name: "selections/s-one/applications/a-one"},
		},
		{
			name: "application list", method: "ListApplications",
			args: []string{"application", "list", "s-one", "--filter", "state = APPLICATION_STATE_IN_PROGRESS", "--order-by", "final_score desc"},
			want: &seleksiv1.ListApplicationsRequest{Parent: "selections/s-one", Filter: "state = APPLICATION_STATE_IN_PROGRESS", OrderBy: "final_score desc"},
		},
		{
			name: "application replace-document", method: "ReplaceDocument",
			args: []string{"application", "replace-document", "s-one/a-one", "--kind", "lhkpn", "--document", "doc-lhkpnbbbbbbbbbbbb"},
			want: &seleksiv1.ReplaceDocumentRequest{Name: "selections/s-one/applications/a-one", Kind: "lhkpn", Document: "documents/doc-lhkpnbbbbbbbbbbbb"},
		},
		{
			name: "application withdraw", method: "WithdrawApplication",
			args: []string{"application", "withdraw", "selections/s-one/applications/a-one", "--reason", "alasan keluarga"},
			want: &seleksiv1.WithdrawApplicationRequest{Name: "selections/s-one/applications/a-one", Reason: "alasan keluarga"},
		},
		{
			name: "status", method: "GetApplication",
			args: []string{"status", "s-one", "a-one"},
			want: &seleksiv1.GetApplicationRequest{Name: "selections/s-one/applications/a-one"},
		},
		{
			name: "objection file", method: "FileObjection",
			args: []string{"objection", "file", "s-one/a-one", "--stage", "administrative-screening", "--reason", "ijazah S2 sudah diunggah"},
			want: &seleksiv1.FileObjectionRequest{Parent: "selections/s-one/applications/a-one",
				Objection: &seleksiv1.Objection{Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Reason: "ijazah S2 sudah diunggah"}},
		},
		{
			name: "objection list of a whole selection", method: "ListObjections",
			args: []string{"objection", "list", "s-one/-"},
			want: &seleksiv1.ListObjectionsRequest{Parent: "selections/s-one/applications/-"},
		},
		{
			name: "objection answer reject", method: "AnswerObjection",
			args: []string{"objection", "answer", "s-one/a-one/o-one", "--reject", "--answer", "dokumen tidak lengkap"},
			want: &seleksiv1.AnswerObjectionRequest{Name: "selections/s-one/applications/a-one/objections/o-one", Answer: "dokumen tidak lengkap"},
		},
		{
			name: "objection answer accept with the corrected result", method: "AnswerObjection",
			args: []string{"objection", "answer", "selections/s-one/applications/a-one/objections/o-one", "--accept", "--answer", "ijazah sah",
				"--outcome", "lulus", "--score", "track-record=77,5", "--category", "MMS"},
			want: &seleksiv1.AnswerObjectionRequest{Name: "selections/s-one/applications/a-one/objections/o-one", Accepted: true, Answer: "ijazah sah",
				CorrectedResult: &seleksiv1.ApplicationResult{Application: "selections/s-one/applications/a-one", Outcome: seleksiv1.Outcome_OUTCOME_PASS,
					CompetencyCategory: seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS,
					Scores:             []*seleksiv1.ComponentScore{{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_TRACK_RECORD, Score: 77.5}}}},
		},
		{
			name: "objection file naming items", method: "FileObjection",
			args: []string{"objection", "file", "s-one/a-one", "--stage", "administrative-screening", "--reason", "LHKPN 2025 sudah diunggah",
				"--item", "document:lhkpn", "--item", "age", "--document", "documents/doc-7"},
			want: &seleksiv1.FileObjectionRequest{Parent: "selections/s-one/applications/a-one",
				Objection: &seleksiv1.Objection{Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Reason: "LHKPN 2025 sudah diunggah",
					Items: []string{"document:lhkpn", "age"}, Document: "documents/doc-7"}},
		},
		{
			name: "objection answer item by item", method: "AnswerObjection",
			args: []string{"objection", "answer", "s-one/a-one/o-one", "--accept", "--answer", "sebagian diterima",
				"--item", "document:lhkpn=accept:LHKPN 2025 ada di berkas", "--item", "age=reject:akta: 1960"},
			want: &seleksiv1.AnswerObjectionRequest{Name: "selections/s-one/applications/a-one/objections/o-one", Accepted: true, Answer: "sebagian diterima",
				ItemAnswers: []*seleksiv1.ItemAnswer{{Item: "document:lhkpn", Accepted: true, Answer: "LHKPN 2025 ada di berkas"},
					{Item: "age", Answer: "akta: 1960"}}},
		},
		{
			name: "audit list", method: "ListAuditEvents",
			args: []string{"audit", "list", "s-one", "--filter", `action = "selection.advance"`, "--page-size", "5"},
			want: &seleksiv1.ListAuditEventsRequest{Parent: "selections/s-one", Filter: `action = "selection.advance"`, PageSize: 5},
		},
		{
			name: "audit verify with replay", method: "VerifySelection",
			args: []string{"audit", "verify", "s-one", "--replay"},
			want: &seleksiv1.VerifySelectionRequest{Name: "selections/s-one", Replay: true},
		},
		{
			name: "audit key", method: "GetSigningKey",
			args: []string{"audit", "key"},
			want: &seleksiv1.GetSigningKeyRequest{},
		},
		{
			name: "notification list of a selection's dead letters", method: "ListNotifications",
			args: []string{"notification", "list", "--dead", "--selection", "s-one", "--page-size", "20"},
			want: &seleksiv1.ListNotificationsRequest{Filter: "state = DEAD AND selection = s-one", PageSize: 20},
		},
		{
			name: "notification list with a filter", method: "ListNotifications",
			args: []string{"notification", "list", "--filter", "state = PENDING", "--order-by", "create_time desc"},
			want: &seleksiv1.ListNotificationsRequest{Filter: "state = PENDING", OrderBy: "create_time desc"},
		},
		{
			name: "notification retry by name", method: "RetryNotification",
			args: []string{"notification", "retry", "notifications/n-1"},
			want: &seleksiv1.RetryNotificationRequest{Name: "notifications/n-1"},
		},
	}
	// The API's request_id rule, written out again rather than taken from validRequestID so
	// that a mistake there cannot hide here.
	requestIDPattern := regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, addr := fakeServer(t)
			res := runCLI(t, addr, nil, tt.args...)
			if res.code != ExitOK {
				t.Fatalf("exit code %d, stderr:\n%s", res.code, res.stderr)
			}
			calls := rec.Calls()
			if len(calls) != 1 || calls[0].method != tt.method {
				t.Fatalf("calls = %v, want one %s", calls, tt.method)
			}
			req := calls[0].req
			if id, ok := requestIDOf(req); ok {
				if !requestIDPattern.MatchString(id) {
					t.Errorf("request_id %q does not match the API's pattern", id)
				}
				if !strings.Contains(res.stderr, "request id: "+id) {
					t.Errorf("stderr does not show the request id %q:\n%s", id, res.stderr)
				}
				// The remaining fields are compared without the random ID.
				req = proto.Clone(req)
				req.ProtoReflect().Clear(req.ProtoReflect().Descriptor().Fields().ByName("request_id"))
			}
			if tt.want != nil && !proto.Equal(req, tt.want) {
				t.Errorf("request =\n%v\nwant\n%v", req, tt.want)
			}
			if tt.check != nil {
				tt.check(t, calls[0].req)
			}
			if res.stdout == "" {
				t.Error("nothing printed on stdout")
			}
		})
	}
}

func TestRequestIDFlagIsSentVerbatim(t *testing.T) {
	rec, addr := fakeServer(t)
	res := runCLI(t, addr, nil, "selection", "cancel", "s-one", "--reason", "x", "--request-id", "retry-of-42_abc")
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if got := rec.Calls()[0].req.(*seleksiv1.CancelSelectionRequest).GetRequestId(); got != "retry-of-42_abc" {
		t.Errorf("request_id = %q", got)
	}
	// Two runs without the flag get different IDs.
	runCLI(t, addr, nil, "selection", "cancel", "s-one", "--reason", "x")
	runCLI(t, addr, nil, "selection", "cancel", "s-one", "--reason", "x")
	calls := rec.Calls()
	a, b := calls[1].req.(*seleksiv1.CancelSelectionRequest).GetRequestId(), calls[2].req.(*seleksiv1.CancelSelectionRequest).GetRequestId()
	if a == b {
		t.Errorf("two runs sent the same request_id %q", a)
	}
}

func TestTokenAndLanguageMetadata(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantAuth  []string
		wantLang  string
		wantInOut string
	}{
		{"defaults: no token, Indonesian", nil, nil, nil, "id", "Lolos uji kompetensi"},
		{"from the environment", map[string]string{"SELEKSI_TOKEN": "env-token", "SELEKSI_LANG": "en"}, nil,
			[]string{"Bearer env-token"}, "en", "Passed the competency test"},
		{"flags before the command win over the environment", map[string]string{"SELEKSI_TOKEN": "env-token", "SELEKSI_LANG": "en"},
			[]string{"--token", "flag-token", "--lang", "id"}, []string{"Bearer flag-token"}, "id", "Lolos uji kompetensi"},
		{"a pasted scheme is not doubled", nil, []string{"--token", "Bearer abc.def"}, []string{"Bearer abc.def"}, "id", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, addr := fakeServer(t)
			args := append(append([]string{}, tt.args...), "status", "s-one", "a-one")
			res := runCLI(t, addr, tt.env, args...)
			if res.code != ExitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			md := rec.Calls()[0].md
			if got := md.Get("authorization"); fmt.Sprint(got) != fmt.Sprint(tt.wantAuth) {
				t.Errorf("authorization = %q, want %q", got, tt.wantAuth)
			}
			if got := md.Get("accept-language"); len(got) != 1 || got[0] != tt.wantLang {
				t.Errorf("accept-language = %q, want %q", got, tt.wantLang)
			}
			if !strings.Contains(res.stdout, tt.wantInOut) {
				t.Errorf("status output lacks %q:\n%s", tt.wantInOut, res.stdout)
			}
		})
	}
	t.Run("global flags after the verb", func(t *testing.T) {
		rec, addr := fakeServer(t)
		res := runCLI(t, addr, nil, "status", "s-one", "a-one", "--lang", "en", "--token", "late")
		if res.code != ExitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		md := rec.Calls()[0].md
		if md.Get("accept-language")[0] != "en" || md.Get("authorization")[0] != "Bearer late" {
			t.Errorf("metadata = %v", md)
		}
	})
}

func TestJSONOutputIsTheResponse(t *testing.T) {
	tests := []struct {
		args []string
		resp proto.Message
	}{
		{[]string{"selection", "get", "s-one"}, &seleksiv1.GetSelectionResponse{}},
		{[]string{"selection", "list"}, &seleksiv1.ListSelectionsResponse{}},
		{[]string{"selection", "advance", "s-one", "--stage", "interview"}, &seleksiv1.AdvanceSelectionResponse{}},
		{[]string{"selection", "results", "s-one", "interview"}, &seleksiv1.GetStageResultResponse{}},
		{[]string{"status", "s-one", "a-one"}, &seleksiv1.GetApplicationResponse{}},
		{[]string{"application", "list", "s-one"}, &seleksiv1.ListApplicationsResponse{}},
		{[]string{"objection", "file", "s-one/a-one", "--stage", "interview", "--reason", "r"}, &seleksiv1.FileObjectionResponse{}},
		{[]string{"audit", "list", "s-one"}, &seleksiv1.ListAuditEventsResponse{}},
		{[]string{"audit", "verify", "s-one"}, &seleksiv1.VerifySelectionResponse{}},
		{[]string{"audit", "key"}, &seleksiv1.GetSigningKeyResponse{}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			_, addr := fakeServer(t)
			// -o json goes once before the command and once after it, in separate runs.
			for _, args := range [][]string{append([]string{"-o", "json"}, tt.args...), append(append([]string{}, tt.args...), "-o", "json")} {
				res := runCLI(t, addr, nil, args...)
				if res.code != ExitOK {
					t.Fatalf("exit %d: %s", res.code, res.stderr)
				}
				m := tt.resp.ProtoReflect().New().Interface()
				if err := protojson.Unmarshal([]byte(res.stdout), m); err != nil {
					t.Fatalf("stdout is not a %T: %v\n%s", tt.resp, err, res.stdout)
				}
				if proto.Size(m) == 0 {
					t.Errorf("empty %T from:\n%s", m, res.stdout)
				}
			}
		})
	}
}

func TestStatusShowsStageResults(t *testing.T) {
	_, addr := fakeServer(t)
	res := runCLI(t, addr, nil, "status", "s-one", "a-one", "--lang", "en")
	for _, want := range []string{"in-progress", "Passed the competency test; awaiting the interview", "competency-test", "competency-test=81.25", "yes"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestGRPCErrorsMapToExitCodes(t *testing.T) {
	withViolations := func() error {
		st, _ := status.New(codes.InvalidArgument, "permintaan tidak valid").WithDetails(&errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: "selection.committee", Description: "the committee must have an odd number of members"},
				{Field: "selection.agency", Description: "value is required"},
			}})
		return st.Err()
	}
	tests := []struct {
		err      error
		want     int
		inStderr []string
	}{
		{status.Error(codes.NotFound, "seleksi tidak ditemukan"), ExitNotFound, []string{"seleksi tidak ditemukan"}},
		{status.Error(codes.Unauthenticated, "token tidak ada atau tidak valid"), ExitDenied, nil},
		{status.Error(codes.PermissionDenied, "peran Anda tidak diizinkan melakukan ini"), ExitDenied, []string{"peran Anda"}},
		{status.Error(codes.FailedPrecondition, "tahap sudah berganti"), ExitPrecondition, nil},
		{status.Error(codes.AlreadyExists, "sudah ada"), ExitPrecondition, nil},
		{status.Error(codes.Aborted, "konflik"), ExitPrecondition, nil},
		{withViolations(), ExitUsage, []string{"permintaan tidak valid", "selection.committee: the committee must have an odd number of members", "selection.agency: value is required"}},
		{status.Error(codes.Unavailable, "down"), ExitFailure, []string{"unavailable", "--request-id"}},
		{status.Error(codes.Internal, "terjadi kesalahan internal"), ExitFailure, []string{"--request-id"}},
		{status.Error(codes.DeadlineExceeded, "slow"), ExitFailure, nil},
	}
	for _, tt := range tests {
		t.Run(status.Code(tt.err).String(), func(t *testing.T) {
			rec, addr := fakeServer(t)
			rec.reply["CancelSelection"] = func(proto.Message) (proto.Message, error) { return nil, tt.err }
			res := runCLI(t, addr, nil, "selection", "cancel", "s-one", "--reason", "x")
			if res.code != tt.want {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", res.code, tt.want, res.stderr)
			}
			for _, s := range tt.inStderr {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
				}
			}
		})
	}
	t.Run("server not reachable", func(t *testing.T) {
		res := runCLI(t, "127.0.0.1:1", nil, "selection", "get", "s-one", "--timeout", "5s")
		if res.code != ExitFailure || !strings.Contains(res.stderr, "unavailable") {
			t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
		}
	})
}

func TestUsageErrorsExit2WithoutCalling(t *testing.T) {
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sample, err := os.ReadFile("testdata/selection.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Dropping the last committee member leaves four: an even committee the API refuses.
	fourMembers := strings.Replace(string(sample), "  - member_id: m-praktisi\n    display_name: Dr. Hendra Gunawan, M.Pd.\n    kind: MEMBER_KIND_EXTERNAL\n    role: COMMITTEE_ROLE_MEMBER\n    affiliation: Universitas Pendidikan Indonesia\n", "", 1)
	if fourMembers == string(sample) {
		t.Fatal("sample selection changed; update this test")
	}
	tests := []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"no command", nil, "Usage"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"group without verb", []string{"selection"}, "selection needs a verb"},
		{"unknown verb", []string{"selection", "explode", "s-one"}, "unknown command"},
		{"missing argument", []string{"selection", "get"}, "usage: seleksictl selection get ID"},
		{"extra argument", []string{"selection", "get", "s-one", "s-two"}, "usage"},
		{"unknown flag", []string{"selection", "get", "s-one", "--colour"}, "flag provided but not defined"},
		{"bad selection ID", []string{"selection", "get", "S_1"}, "not a selection ID"},
		{"bad stage", []string{"selection", "advance", "s-one", "--stage", "lunch"}, "unknown stage"},
		{"missing required flag", []string{"selection", "advance", "s-one"}, "--stage"},
		{"stage that cannot be advanced", []string{"selection", "advance", "s-one", "--stage", "closed"}, "expected_stage"},
		{"bad language", []string{"--lang", "fr", "selection", "get", "s-one"}, "--lang"},
		{"bad output", []string{"selection", "get", "s-one", "-o", "yaml"}, "-o must be"},
		{"bad request id", []string{"selection", "cancel", "s-one", "--reason", "x", "--request-id", "short"}, "--request-id"},
		{"four ranks", []string{"selection", "decide", "s-one", "--rank", "a-1a:x", "--rank", "a-2a:x", "--rank", "a-3a:x", "--rank", "a-4a:x"}, "at most three"},
		{"shortlist of two without statement", []string{"selection", "decide", "s-one", "--rank", "a-1a:x", "--rank", "a-2a:x"}, "--statement"},
		{"rank without reason", []string{"selection", "decide", "s-one", "--rank", "a-1a", "--statement", "s"}, "APP:REASON"},
		{"application of another selection", []string{"selection", "appoint", "s-one", "--application", "selections/s-two/applications/a-1a",
			"--ppk-decree", "k", "--oversight-ref", "r"}, "not in selections/s-one"},
		{"accept and reject", []string{"objection", "answer", "s-one/a-one/o-one", "--accept", "--reject", "--answer", "x"}, "exactly one"},
		{"accept without outcome", []string{"objection", "answer", "s-one/a-one/o-one", "--accept", "--answer", "x"}, "--outcome"},
		{"reject with a corrected result", []string{"objection", "answer", "s-one/a-one/o-one", "--reject", "--answer", "x", "--outcome", "pass"}, "--accept only"},
		{"item answer without a verdict", []string{"objection", "answer", "s-one/a-one/o-one", "--accept", "--answer", "x", "--item", "age:ok"}, "ITEM=accept:ANSWER"},
		{"item answers with a corrected result", []string{"objection", "answer", "s-one/a-one/o-one", "--accept", "--answer", "x", "--item", "age=accept:ok", "--outcome", "pass"}, "no corrected result flags"},
		{"missing file", []string{"selection", "create", "-f", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"no file flag", []string{"selection", "create"}, "-f"},
		{"unknown YAML field", []string{"selection", "create", "-f", writeFile("typo.yaml", "position_titel: x\n")}, "position_titel"},
		{"YAML breaking the API's rules", []string{"selection", "create", "-f", writeFile("four.yaml", fourMembers)}, "odd number of members"},
		{"NIP as a YAML number", []string{"application", "submit", "s-one", "-f", writeFile("nip.yaml", "candidate:\n  nip: 197805122003122004\n")}, "nip"},
		{"results for the announcement", []string{"results", "record", "s-one", "--stage", "announcement", "--csv", "testdata/scores.csv"}, "not announcement"},
		{"batch too large", []string{"results", "record", "s-one", "--stage", "interview", "--csv", "testdata/scores.csv", "--batch", "1001"}, "--batch must be 1 to 1000"},
		{"export without -O", []string{"audit", "export", "s-one"}, "-O"},
		{"export with an unreadable key", []string{"audit", "export", "s-one", "-O", filepath.Join(dir, "b"), "--key", filepath.Join(dir, "no-such-key.pem")}, "--key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, addr := fakeServer(t)
			res := runCLI(t, addr, nil, tt.args...)
			if res.code != ExitUsage {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", res.code, ExitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.inStderr, res.stderr)
			}
			if calls := rec.Calls(); len(calls) != 0 {
				t.Errorf("sent %d call(s) for a usage error", len(calls))
			}
			if strings.Contains(res.stderr, "request id:") {
				t.Errorf("announced a request id although nothing was sent:\n%s", res.stderr)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"help", "results", "record"}, {"results", "record", "-h"}, {"token", "-h"}} {
		res := runCLI(t, "", nil, args...)
		if res.code != ExitOK || !strings.Contains(res.stdout, "Usage") {
			t.Errorf("%v: exit %d, stdout:\n%s", args, res.code, res.stdout)
		}
	}
	res := runCLI(t, "", nil, "help")
	for _, want := range []string{"Exit codes", "SELEKSI_SERVER", "SELEKSI_TOKEN", "SELEKSI_HTTP", "results record", "audit verify",
		"document upload", "document list", "document get"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	res = runCLI(t, "", nil, "document", "upload", "-h")
	for _, want := range []string{"--selection", "--kind", "--state-dir", "resum"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("document upload help lacks %q", want)
		}
	}
	// A bad --http is a usage error before anything is sent.
	if res := runCLI(t, "", nil, "document", "list", "--selection", "s-one", "--http", "localhost:8080"); res.code != ExitUsage {
		t.Errorf("--http without a scheme: exit %d", res.code)
	}
	res = runCLI(t, "", nil, "results", "record", "-h")
	for _, want := range []string{"application", "socio_cultural", "track_record", "BASE-N"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("results record help lacks %q", want)
		}
	}
}

func TestAuditExport(t *testing.T) {
	t.Run("the file is the server's archive, checked with the published key", func(t *testing.T) {
		rec, addr := fakeServer(t)
		dir := t.TempDir()
		out := filepath.Join(dir, "bundle.zip")
		res := runCLI(t, addr, map[string]string{"SELEKSI_TOKEN": "auditor-token", "SELEKSI_LANG": "en"}, "audit", "export", "s-one", "-O", out)
		if res.code != ExitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		// The stream carries the token and the language, as every call does.
		if md := rec.Calls()[0].md; fmt.Sprint(md.Get("authorization")) != "[Bearer auditor-token]" || fmt.Sprint(md.Get("accept-language")) != "[en]" {
			t.Errorf("the export was sent with metadata %v", md)
		}
		data, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(data, rec.bundle) {
			t.Fatalf("the file holds %d bytes (%v), want the %d streamed", len(data), err, len(rec.bundle))
		}
		for _, want := range []string{"verified, checked with the key the server publishes", "Result     ok", audit.EventsPart} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
			}
		}
		var methods []string
		for _, c := range rec.Calls() {
			methods = append(methods, c.method)
		}
		if strings.Join(methods, " ") != "ExportHistory GetSigningKey" {
			t.Errorf("calls %v", methods)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})
	t.Run("a bundle over gRPC's 4 MiB message ceiling", func(t *testing.T) {
		rec, addr := fakeServer(t)
		big := make([]byte, 5<<20)
		_, _ = rand.NewChaCha8([32]byte{3}).Read(big)
		var buf bytes.Buffer
		if err := audit.WriteBundle(&buf, audit.Bundle{SelectionID: "s-one", WorkflowID: "wf-s-one", CreatedAt: time.Now(),
			Histories: []audit.RunHistory{{RunID: "run-1", JSON: big}}}, auditTestKey("server")); err != nil {
			t.Fatal(err)
		}
		rec.bundle = buf.Bytes()
		out := filepath.Join(t.TempDir(), "big.zip")
		res := runCLI(t, addr, nil, "audit", "export", "s-one", "-O", out, "-o", "json")
		if res.code != ExitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		var printed exportOutput
		if err := json.Unmarshal([]byte(res.stdout), &printed); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		if !printed.OK || !printed.Signature.Verified || printed.Bytes != int64(buf.Len()) || printed.SHA256 != hex.EncodeToString(sum[:]) ||
			len(printed.Parts) != 3 || printed.Parts[0].Size != int64(len(big)) {
			t.Errorf("printed %+v", printed)
		}
		if fi, err := os.Stat(out); err != nil || fi.Size() != int64(buf.Len()) {
			t.Errorf("file: %v %v", fi, err)
		}
	})
	t.Run("to stdout, with the account on stderr", func(t *testing.T) {
		rec, addr := fakeServer(t)
		res := runCLI(t, addr, nil, "audit", "export", "s-one", "-O", "-", "--key", writeKeyPEM(t, auditTestKey("server")))
		if res.code != ExitOK || res.stdout != string(rec.bundle) || !strings.Contains(res.stderr, "checked with --key") {
			t.Errorf("exit %d, %d bytes on stdout (want %d), stderr:\n%s", res.code, len(res.stdout), len(rec.bundle), res.stderr)
		}
		// The key was given: the published one is not asked for.
		if calls := rec.Calls(); len(calls) != 1 {
			t.Errorf("calls %v", calls)
		}
	})
	// Each case is a file written and a finding reported, or nothing written and an error.
	tests := []struct {
		name    string
		export  func(good []byte) ([]*seleksiv1.ExportHistoryResponse, error)
		key     ed25519.PrivateKey
		code    int
		written bool
		stderr  string
		// timeout is the CLI's --timeout; only the stalled server is given a short one, so
		// that the other cases do not depend on how fast a loaded machine streams the bundle.
		timeout string
	}{
		{"a part that does not match the manifest", func(good []byte) ([]*seleksiv1.ExportHistoryResponse, error) {
			return exportMessages(rezip(t, good, func(name string, b []byte) []byte {
				if name == audit.EventsPart {
					return append(bytes.Clone(b), ' ')
				}
				return b
			}), 64<<10), nil
		}, nil, ExitVerification, true, audit.EventsPart, "30s"},
		{"signed by another key than the one given", nil, auditTestKey("impostor"), ExitVerification, true, "finding", "30s"},
		{"a transfer that does not match the trailer", func(good []byte) ([]*seleksiv1.ExportHistoryResponse, error) {
			msgs := exportMessages(good, 64<<10)
			msgs[len(msgs)-1].GetTrailer().Sha256 = strings.Repeat("0", 64)
			return msgs, nil
		}, nil, ExitVerification, false, "the server sent", "30s"},
		{"a stream cut off before its trailer", func(good []byte) ([]*seleksiv1.ExportHistoryResponse, error) {
			msgs := exportMessages(good, 64<<10)
			return msgs[:2], nil
		}, nil, ExitFailure, false, "without its trailer", "30s"},
		{"a stream that ends in an error", func(good []byte) ([]*seleksiv1.ExportHistoryResponse, error) {
			return exportMessages(good, 64<<10)[:2], status.Error(codes.Internal, "kesalahan internal")
		}, nil, ExitFailure, false, "kesalahan internal", "30s"},
		{"a server that stops sending", func(good []byte) ([]*seleksiv1.ExportHistoryResponse, error) {
			time.Sleep(2 * time.Second)
			return exportMessages(good, 64<<10), nil
		}, nil, ExitFailure, false, "sent nothing for 300ms", "300ms"},
		{"a refusal", func([]byte) ([]*seleksiv1.ExportHistoryResponse, error) {
			return nil, status.Error(codes.PermissionDenied, "peran Anda tidak diizinkan melakukan ini")
		}, nil, ExitDenied, false, "tidak diizinkan", "30s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, addr := fakeServer(t)
			if tc.export != nil {
				good := rec.bundle
				rec.export = func(*seleksiv1.ExportHistoryRequest) ([]*seleksiv1.ExportHistoryResponse, error) {
					return tc.export(good)
				}
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "bundle.zip")
			args := []string{"audit", "export", "s-one", "-O", out, "--timeout", tc.timeout}
			if tc.key != nil {
				args = append(args, "--key", writeKeyPEM(t, tc.key))
			}
			res := runCLI(t, addr, nil, args...)
			if res.code != tc.code || !strings.Contains(res.stderr+res.stdout, tc.stderr) {
				t.Errorf("exit %d (want %d), stdout:\n%s\nstderr:\n%s", res.code, tc.code, res.stdout, res.stderr)
			}
			_, err := os.Stat(out)
			if written := err == nil; written != tc.written {
				t.Errorf("file written: %v, want %v", written, tc.written)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestAuditVerifyExitCode(t *testing.T) {
	rec, addr := fakeServer(t)
	rec.reply["VerifySelection"] = func(proto.Message) (proto.Message, error) {
		return &seleksiv1.VerifySelectionResponse{Report: &seleksiv1.VerificationReport{
			EventsChecked: 7,
			Findings: []*seleksiv1.Finding{{Kind: seleksiv1.FindingKind_FINDING_KIND_CHAIN_BROKEN,
				Message: "event 4 does not follow event 3", EventSequences: []uint64{3, 4}}},
		}}, nil
	}
	for _, output := range []string{"table", "json"} {
		res := runCLI(t, addr, nil, "audit", "verify", "s-one", "-o", output)
		if res.code != ExitVerification {
			t.Errorf("-o %s: exit %d, want %d", output, res.code, ExitVerification)
		}
		if output == "table" && (!strings.Contains(res.stdout, "chain-broken") || !strings.Contains(res.stdout, "3,4")) {
			t.Errorf("findings table:\n%s", res.stdout)
		}
	}
}

// TestSampleFilesAreValid keeps the samples under testdata in step with the API's rules.
func TestSampleFilesAreValid(t *testing.T) {
	inv := &invocation{app: &App{}}
	sel := &seleksiv1.Selection{}
	if err := inv.loadYAML("f", "testdata/selection.yaml", sel); err != nil {
		t.Fatal(err)
	}
	app := &seleksiv1.Application{}
	if err := inv.loadYAML("f", "testdata/application-documents.yaml", app); err != nil {
		t.Fatal(err)
	}
	// application.yaml names the same documents by local files, which exist and are the
	// kinds the selection requires.
	b, err := os.ReadFile("testdata/application.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withFiles, locals, err := decodeApplication(b, "application.yaml", "testdata")
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	for _, d := range sel.GetRequirements().GetRequiredDocuments() {
		required = append(required, d.GetId())
	}
	if len(locals) != len(required) || len(withFiles.GetDocuments()) != len(required) {
		t.Fatalf("application.yaml names %d files, the selection requires %v", len(locals), required)
	}
	for i, l := range locals {
		if l.kind != required[i] || withFiles.GetDocuments()[i].GetKind() != required[i] {
			t.Errorf("file %d is %s, want kind %s", i, l.kind, required[i])
		}
		if data, err := os.ReadFile(l.path); err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) {
			t.Errorf("%s: %v", l.path, err)
		}
		withFiles.GetDocuments()[i].Document = fmt.Sprintf("documents/doc-sample%daaaaaaaaa", i)
	}
	if !proto.Equal(withFiles.GetCandidate(), app.GetCandidate()) || withFiles.GetStatement() != app.GetStatement() {
		t.Error("application.yaml and application-documents.yaml differ beyond their documents")
	}
	internal := 0
	for _, m := range sel.GetCommittee() {
		if m.GetKind() == seleksiv1.MemberKind_MEMBER_KIND_INTERNAL {
			internal++
			if m.GetPostLevel() != seleksiv1.PostLevel_POST_LEVEL_JPT_PRATAMA {
				t.Errorf("internal member %s at %v", m.GetMemberId(), m.GetPostLevel())
			}
		}
	}
	if len(sel.GetCommittee()) != 5 || internal != 2 {
		t.Errorf("committee of %d with %d internal, want 5 with 2", len(sel.GetCommittee()), internal)
	}
	for _, m := range []proto.Message{
		sel, app, withFiles,
		&seleksiv1.CreateSelectionRequest{RequestId: newRequestID(), SelectionId: "dinas-pendidikan-2026", Selection: sel},
		&seleksiv1.SubmitApplicationRequest{RequestId: newRequestID(), Parent: "selections/dinas-pendidikan-2026", Application: app},
	} {
		if err := protovalidate.Validate(m); err != nil {
			t.Errorf("%T: %v", m, err)
		}
	}
	data, err := os.ReadFile("testdata/scores.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parseScoreSheet(data, "scores.csv", "selections/dinas-pendidikan-2026")
	if err != nil {
		t.Fatalf("%v %v", err, err.(*usageError).details)
	}
	if len(rows) != 4 {
		t.Errorf("%d rows, want 4", len(rows))
	}
}

// TestSelectionGetShowsBothClocks: on a compressed time scale the detail view gives the
// stage's times in selection time and on the wall clock.
func TestSelectionGetShowsBothClocks(t *testing.T) {
	rec, addr := fakeServer(t)
	t0 := time.Date(2026, 7, 6, 1, 0, 0, 0, time.UTC)
	rec.reply["GetSelection"] = func(proto.Message) (proto.Message, error) {
		return &seleksiv1.GetSelectionResponse{Selection: &seleksiv1.Selection{Name: "selections/s-one", Stage: seleksiv1.Stage_STAGE_ANNOUNCEMENT,
			TimeScale: 1440, StageOpenTime: timestamppb.New(t0), StageCloseTime: timestamppb.New(t0.Add(96 * time.Hour)),
			StageOpenWallTime: timestamppb.New(t0), StageCloseWallTime: timestamppb.New(t0.Add(4 * time.Minute))}}, nil
	}
	res := runCLI(t, addr, nil, "selection", "get", "s-one")
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"Time scale", "1440x", "Closes (wall clock)", fmtTime(timestamppb.New(t0.Add(4 * time.Minute))), fmtTime(timestamppb.New(t0.Add(96 * time.Hour)))} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
}
