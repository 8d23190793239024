// Package demo seeds a demonstration (seleksid -demo, issue 12 "First start"): local
// accounts of every role with one known password, and a sample selection created through
// the API as the secretariat, whose committee seats are the committee accounts. A newcomer
// signs in as anyone and clicks through a whole selection. Seeding is idempotent: a second
// run creates nothing and prints the same sign-in list.
//
// Everything here is fictitious demonstration data under the reserved .test domain; the
// password is printed on the log on purpose, which is why internal/config refuses -demo
// outside a demonstration.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// Password is the password of every demonstration account.
const Password = "demo-seleksi"

// SelectionID is the sample selection's ID.
const SelectionID = "demo-kepala-dinas-pendidikan"

// requestID makes the creation idempotent within one run (a retry after a lost answer).
const requestID = "demo-seed-" + SelectionID

// Minter mints API tokens; *auth.LocalKey is one.
type Minter interface {
	Mint(auth.MintOptions) (string, error)
}

// Options are what the seed works with.
type Options struct {
	Accounts *accounts.Service
	// Conn reaches the server's own gRPC API: the selection is created through it, so it
	// passes the API's validation like any other.
	Conn grpc.ClientConnInterface
	// Key mints the secretariat's token for the creation.
	Key Minter
	// WebURL is where people open the web application.
	WebURL *url.URL
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Account is one demonstration account as seeded.
type Account struct {
	// Label names the role for people, Indonesian / English.
	Label string
	accounts.Account
}

// Result is what the seed made or found.
type Result struct {
	// Accounts in the printed order: the secretariat, the committee (chair first), the
	// auditor, the candidates.
	Accounts    []Account
	SelectionID string
	// Created reports whether this run created the selection (false: it existed).
	Created bool
	// SelectionURL is the selection's page in the web application.
	SelectionURL string
}

// person is a demonstration account with, for committee members, their seat.
type person struct {
	label string
	acc   accounts.NewAccount
	// seat is the committee seat (nil for everyone else); its member_id is filled in with
	// the account's subject.
	seat *seleksiv1.CommitteeMember
}

// people are the demonstration accounts: one secretariat, a committee of five (one chair,
// two internal members of five, 40% at most 45%), one auditor and two candidates.
func people() []person {
	ext, in := seleksiv1.MemberKind_MEMBER_KIND_EXTERNAL, seleksiv1.MemberKind_MEMBER_KIND_INTERNAL
	jpt := seleksiv1.PostLevel_POST_LEVEL_JPT_PRATAMA
	chair, sec, mem := seleksiv1.CommitteeRole_COMMITTEE_ROLE_CHAIR, seleksiv1.CommitteeRole_COMMITTEE_ROLE_SECRETARY, seleksiv1.CommitteeRole_COMMITTEE_ROLE_MEMBER
	committee := func(name, nip, email string, kind seleksiv1.MemberKind, level seleksiv1.PostLevel, role seleksiv1.CommitteeRole, affiliation, label string) person {
		return person{label: label, acc: accounts.NewAccount{Role: auth.RoleCommittee, FullName: name, NIP: nip, Email: email},
			seat: &seleksiv1.CommitteeMember{DisplayName: name, Kind: kind, PostLevel: level, Role: role, Affiliation: affiliation}}
	}
	return []person{
		{label: "sekretariat (admin) / secretariat (admin)",
			acc: accounts.NewAccount{Role: auth.RoleAdmin, FullName: "Sekretariat BKPSDM (Demo)", Email: "sekretariat@seleksi.test"}},
		committee("Prof. Dr. Siti Rahmawati, M.Si.", "", "pansel1@seleksi.test", ext, 0, chair, "Universitas Padjadjaran",
			"ketua panitia seleksi / committee chair"),
		committee("Dr. Ahmad Fauzi, S.H., M.H.", "197203152000031002", "pansel2@seleksi.test", in, jpt, sec, "Sekretariat Daerah Kota Bandung",
			"sekretaris panitia seleksi (internal) / committee secretary (internal)"),
		committee("Ir. Budi Santoso, M.T.", "197508172001121003", "pansel3@seleksi.test", in, jpt, mem, "BKPSDM Kota Bandung",
			"anggota panitia seleksi (internal) / committee member (internal)"),
		committee("Dra. Maria Wijaya, Psikolog", "", "pansel4@seleksi.test", ext, 0, mem, "Himpunan Psikologi Indonesia",
			"anggota panitia seleksi / committee member"),
		committee("Dr. Hendra Gunawan, M.Pd.", "", "pansel5@seleksi.test", ext, 0, mem, "Universitas Pendidikan Indonesia",
			"anggota panitia seleksi / committee member"),
		{label: "auditor / auditor",
			acc: accounts.NewAccount{Role: auth.RoleAuditor, FullName: "Inspektorat Daerah (Demo)", Email: "auditor@seleksi.test"}},
		{label: "calon / candidate",
			acc: accounts.NewAccount{Role: auth.RoleCandidate, FullName: "Rina Kartika, S.Pd., M.Pd.", NIP: "197805122003122001", Email: "calon1@seleksi.test"}},
		{label: "calon / candidate",
			acc: accounts.NewAccount{Role: auth.RoleCandidate, FullName: "Agus Salim, S.E., M.M.", NIP: "198001012005011002", Email: "calon2@seleksi.test"}},
	}
}

// Seed makes sure the demonstration exists: the accounts (found or created, confirmed,
// with Password), the sample selection (created through the API as the secretariat when it
// does not exist), and the committee accounts' seats on it. Then it prints the sign-in list.
func Seed(ctx context.Context, o Options) (Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	res := Result{SelectionID: SelectionID, SelectionURL: o.WebURL.JoinPath("seleksi", SelectionID).String()}
	var admin accounts.Account
	var committee []*seleksiv1.CommitteeMember
	var seats []string // committee account IDs
	for _, p := range people() {
		a, err := o.Accounts.Seed(ctx, p.acc, Password)
		if err != nil {
			return Result{}, fmt.Errorf("demo: account %s: %w", p.acc.Email, err)
		}
		res.Accounts = append(res.Accounts, Account{Label: p.label, Account: a})
		switch {
		case a.Role == auth.RoleAdmin:
			admin = a
		case p.seat != nil:
			p.seat.MemberId = a.Subject
			committee = append(committee, p.seat)
			seats = append(seats, a.ID)
		}
	}
	created, err := ensureSelection(ctx, o, admin, committee)
	if err != nil {
		return Result{}, err
	}
	res.Created = created
	for _, id := range seats {
		if _, err := o.Accounts.LinkSeat(ctx, SelectionID, id); err != nil {
			return Result{}, fmt.Errorf("demo: link committee seat: %w", err)
		}
	}
	printSignIns(o.Logger, o.WebURL, res)
	return res, nil
}

// ensureSelection creates the sample selection through the API unless it exists, and checks
// that an existing one has the demonstration's committee.
func ensureSelection(ctx context.Context, o Options, admin accounts.Account, committee []*seleksiv1.CommitteeMember) (created bool, err error) {
	token, err := o.Key.Mint(auth.MintOptions{Subject: admin.Subject, Role: auth.RoleAdmin, TTL: 5 * time.Minute})
	if err != nil {
		return false, fmt.Errorf("demo: secretariat token: %w", err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	client := seleksiv1.NewSelectionServiceClient(o.Conn)
	name := "selections/" + SelectionID
	got, err := client.GetSelection(ctx, &seleksiv1.GetSelectionRequest{Name: name})
	switch status.Code(err) {
	case codes.OK:
		return false, sameCommittee(got.GetSelection(), committee)
	case codes.NotFound:
	default:
		return false, fmt.Errorf("demo: read the sample selection: %w", err)
	}
	resp, err := client.CreateSelection(ctx, &seleksiv1.CreateSelectionRequest{RequestId: requestID, SelectionId: SelectionID,
		Selection: sample(committee, o.Now())})
	if err != nil {
		return false, fmt.Errorf("demo: create the sample selection through the API: %w", err)
	}
	if id := resp.GetSelection().GetName(); id != name {
		return false, fmt.Errorf("demo: the API created %q, want %q", id, name)
	}
	return true, nil
}

// sameCommittee checks that an existing selection with the sample's ID has the
// demonstration's committee, so that the seats linked to it are right.
func sameCommittee(sel *seleksiv1.Selection, want []*seleksiv1.CommitteeMember) error {
	ids := func(ms []*seleksiv1.CommitteeMember) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.GetMemberId())
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(ids(sel.GetCommittee()), ids(want)) {
		return errors.New("demo: selection " + SelectionID + " exists with another committee than the demonstration accounts; " +
			"start the demonstration with an empty data directory")
	}
	return nil
}

// sample is the sample selection: a Kepala Dinas post as the secretariat would define it
// (see internal/cli/testdata/selection.yaml), its announcement opening at creation.
// Holiday lists are shipped per year; the demonstration supplies the next two years' New
// Year's Day, so that its windows (compressed by -demo-seconds-per-day, or not) may reach
// into them (a year is covered once a selection lists a day of it).
func sample(committee []*seleksiv1.CommitteeMember, now time.Time) *seleksiv1.Selection {
	year := now.In(time.FixedZone("WIB", 7*60*60)).Year()
	var holidays []*seleksiv1.HolidayOverride
	for y := year + 1; y <= year+2; y++ {
		holidays = append(holidays, &seleksiv1.HolidayOverride{Date: fmt.Sprintf("%d-01-01", y),
			Description: fmt.Sprintf("Tahun Baru %d Masehi (demo)", y)})
	}
	return &seleksiv1.Selection{
		PositionTitle:        "Kepala Dinas Pendidikan",
		PositionUnit:         "Dinas Pendidikan",
		Agency:               "Pemerintah Kota Bandung (Demo)",
		TimeZone:             seleksiv1.TimeZone_TIME_ZONE_WIB,
		OversightApprovalRef: "B-0000/KASN/DEMO",
		Committee:            committee,
		Requirements: &seleksiv1.Requirements{
			MinEducation:              seleksiv1.EducationLevel_EDUCATION_LEVEL_MASTER,
			MinYearsExperience:        5,
			MinYearsAdministratorPost: 2,
			MaxAgeYears:               56,
			RequiredDocuments: []*seleksiv1.RequiredDocument{
				{Id: "lhkpn", Title: "Laporan Harta Kekayaan Penyelenggara Negara (LHKPN)", Description: "Tanda terima LHKPN tahun terakhir."},
				{Id: "sehat", Title: "Surat keterangan sehat jasmani dan rohani"},
			},
		},
		AnnouncementWorkingDays:      10,
		ExtensionWorkingDays:         5,
		MaxExtensions:                1,
		MinApplicants:                2,
		InsufficientApplicantsPolicy: seleksiv1.InsufficientApplicantsPolicy_INSUFFICIENT_APPLICANTS_POLICY_CONTINUE,
		ObjectionWindowWorkingDays:   3,
		ScoreWeights:                 &seleksiv1.ScoreWeights{WrittenTest: 10, CompetencyTest: 40, Paper: 15, Interview: 25, TrackRecord: 10},
		PassThresholds: []*seleksiv1.PassThreshold{
			{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, MinScore: 60},
			{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW, MinScore: 65},
		},
		MinCompetencyCategory: seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS,
		MinFinalScore:         70,
		TieBreakRule:          seleksiv1.TieBreakRule_TIE_BREAK_RULE_WEIGHT_ORDER,
		PublishScores:         true,
		HolidayOverrides:      holidays,
	}
}

// printSignIns writes the sign-in list: the web application, one line per account, the sample
// selection's page.
func printSignIns(logger *slog.Logger, web *url.URL, res Result) {
	logger.Warn("DEMO: buka aplikasi web / open the web application", "url", web.String())
	for _, a := range res.Accounts {
		logger.Warn("DEMO: masuk sebagai / sign in as", "role", a.Label, "email", a.Email, "password", Password)
	}
	logger.Warn("DEMO: halaman seleksi contoh / the sample selection's page", "url", res.SelectionURL)
}
