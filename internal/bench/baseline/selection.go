// Package baseline holds the scenarios of seleksibench that compare one path through Seleksi
// with the platform under it, measured in the same run: a committee command with a bare
// Temporal Update, a status read through the gateway with the store's own read, and bulk
// results with a raw batched insert.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/bench"
)

// screener is the committee member who records the screening verdicts.
const screener = "sekretaris"

// committeeIDs are the members of every selection's committee: five, the second and fourth
// internal.
func committeeIDs() []string { return []string{"ketua", screener, "anggota3", "anggota4", "anggota5"} }

// intakeFloor is the fewest applications per second the setup counts on when it sizes an
// announcement window: well under what seleksid takes on this machine (the deadline rush
// measured 250/s at 64 clients), so that the window never closes on the setup's own intake.
const intakeFloor = 80

// setupClients is how many applications the setup submits at once.
const setupClients = 32

// prepared is a selection the setup made, with its applications.
type prepared struct {
	ID, Name string
	// Apps are the applications' names (selections/S/applications/A) and Owners the
	// subjects of the candidates who submitted them, in the same order.
	Apps, Owners []string
}

// setup makes selections and fills them with applications: one selection per count, all
// announced at once with a window long enough for every application at intakeFloor. With
// screening it then waits for the windows to close, so that the selections are in the
// administrative screening with every application.
func setup(ctx context.Context, env *bench.Env, prefix string, counts []int, screening bool) ([]*prepared, error) {
	total := 0
	for _, n := range counts {
		total += n
	}
	admin, err := env.Mint(auth.MintOptions{Subject: "bench-admin", Role: auth.RoleAdmin})
	if err != nil {
		return nil, err
	}
	actx := bench.Bearer(ctx, admin)
	sc := seleksiv1.NewSelectionServiceClient(env.GRPC)
	// The window needs total/intakeFloor seconds of wall time and a few more for the opening
	// and the stragglers; working days are at least as long as days.
	wall := 5 + float64(total)/intakeFloor
	days := uint32(min(60, max(1, math.Ceil(wall/float64(max(1, env.SecondsPerDay))))))
	if env.SecondsPerDay == 0 {
		days = 1
	}
	run := bench.RandomHex(3)
	sels := make([]*prepared, len(counts))
	for i := range counts {
		id := fmt.Sprintf("%s-%s-%d", prefix, run, i)
		_, err := sc.CreateSelection(actx, &seleksiv1.CreateSelectionRequest{
			RequestId: "create-" + id, SelectionId: id, Selection: selectionDefinition(days)})
		if err != nil {
			return nil, fmt.Errorf("create selection %s: %w", id, err)
		}
		sels[i] = &prepared{ID: id, Name: "selections/" + id, Apps: make([]string, counts[i]), Owners: make([]string, counts[i])}
	}
	// Applications are taken once the workflow has projected the window into the store.
	closes := make([]time.Time, len(sels))
	for i, p := range sels {
		s, err := waitSelection(ctx, sc, p.Name, 30*time.Second, "the announcement window to open",
			func(s *seleksiv1.Selection) bool { return s.GetStageCloseWallTime() != nil })
		if err != nil {
			return nil, err
		}
		closes[i] = s.GetStageCloseWallTime().AsTime()
	}
	env.Log.Info("setup: submitting applications", "selections", len(sels), "applications", total,
		"window_days", days, "window_closes_in", time.Until(closes[0]).Round(time.Second))
	if err := submitAll(ctx, env, sels); err != nil {
		return nil, err
	}
	if !screening {
		return sels, nil
	}
	for i, p := range sels {
		wait := time.Until(closes[i]) + 2*time.Minute
		env.Log.Info("setup: waiting for the announcement to close", "selection", p.ID, "closes_in", time.Until(closes[i]).Round(time.Second))
		s, err := waitSelection(ctx, sc, p.Name, wait, "the administrative screening",
			func(s *seleksiv1.Selection) bool {
				return s.GetStage() == seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING
			})
		if err != nil {
			return nil, err
		}
		if got := int(s.GetApplicationCounts().GetTotal()); got != len(p.Apps) {
			return nil, fmt.Errorf("selection %s reached the screening with %d applications, want %d", p.ID, got, len(p.Apps))
		}
	}
	return sels, nil
}

// submitAll submits every application of sels from setupClients clients, each candidate with
// a token of their own, retrying with the same request ID when seleksid is briefly
// unavailable.
func submitAll(ctx context.Context, env *bench.Env, sels []*prepared) error {
	type job struct {
		sel *prepared
		i   int
	}
	jobs := make(chan job)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ac := seleksiv1.NewApplicationServiceClient(env.GRPC)
	var (
		once     sync.Once
		firstErr error
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	var wg sync.WaitGroup
	for range setupClients {
		wg.Go(func() {
			for j := range jobs {
				owner := fmt.Sprintf("bench-%s-k%05d", j.sel.ID, j.i)
				tok, err := env.Mint(auth.MintOptions{Subject: owner, Role: auth.RoleCandidate})
				if err != nil {
					fail(err)
					return
				}
				req := &seleksiv1.SubmitApplicationRequest{Parent: j.sel.Name, RequestId: fmt.Sprintf("submit-%05d", j.i),
					Application: applicationOf(j.i)}
				var resp *seleksiv1.SubmitApplicationResponse
				for attempt := 1; ; attempt++ {
					resp, err = ac.SubmitApplication(bench.Bearer(ctx, tok), req)
					if c := status.Code(err); err == nil || attempt >= 5 || (c != codes.Unavailable && c != codes.ResourceExhausted && c != codes.Aborted) {
						break
					}
					time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
				}
				if err != nil {
					fail(fmt.Errorf("submit application %d to %s: %w", j.i, j.sel.ID, err))
					return
				}
				j.sel.Apps[j.i], j.sel.Owners[j.i] = resp.GetApplication().GetName(), owner
			}
		})
	}
	// Round robin over the selections, so that they fill at the same pace.
	longest := 0
	for _, p := range sels {
		longest = max(longest, len(p.Apps))
	}
feed:
	for i := range longest {
		for _, p := range sels {
			if i >= len(p.Apps) {
				continue
			}
			select {
			case jobs <- job{p, i}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// waitSelection polls a selection until ok holds, for at most wait.
func waitSelection(ctx context.Context, sc seleksiv1.SelectionServiceClient, name string, wait time.Duration, what string,
	ok func(*seleksiv1.Selection) bool) (*seleksiv1.Selection, error) {
	deadline := time.Now().Add(wait)
	for {
		resp, err := sc.GetSelection(ctx, &seleksiv1.GetSelectionRequest{Name: name})
		if err == nil && ok(resp.GetSelection()) {
			return resp.GetSelection(), nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if time.Now().After(deadline) {
			s := resp.GetSelection()
			return nil, fmt.Errorf("%s: waited %s for %s; last seen stage %s, blocked %v, error %v",
				name, wait, what, s.GetStage(), s.GetBlocked(), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// selectionDefinition is a valid selection whose announcement lasts days working days, with
// no extension, no required document (the scenarios here measure commands and reads, not
// uploads) and holiday lists for the years after the shipped one.
func selectionDefinition(days uint32) *seleksiv1.Selection {
	var members []*seleksiv1.CommitteeMember
	for i, id := range committeeIDs() {
		m := &seleksiv1.CommitteeMember{MemberId: id, DisplayName: "Anggota " + id, Kind: seleksiv1.MemberKind_MEMBER_KIND_EXTERNAL,
			Role: seleksiv1.CommitteeRole_COMMITTEE_ROLE_MEMBER, Affiliation: "Universitas Contoh"}
		switch i {
		case 0:
			m.Role = seleksiv1.CommitteeRole_COMMITTEE_ROLE_CHAIR
		case 1:
			m.Role, m.Kind, m.PostLevel = seleksiv1.CommitteeRole_COMMITTEE_ROLE_SECRETARY, seleksiv1.MemberKind_MEMBER_KIND_INTERNAL, seleksiv1.PostLevel_POST_LEVEL_JPT_MADYA
		case 3:
			m.Kind, m.PostLevel = seleksiv1.MemberKind_MEMBER_KIND_INTERNAL, seleksiv1.PostLevel_POST_LEVEL_JPT_PRATAMA
		}
		members = append(members, m)
	}
	return &seleksiv1.Selection{
		PositionTitle: "Kepala Dinas Kesehatan", PositionUnit: "Dinas Kesehatan", Agency: "Pemerintah Kota Contoh",
		TimeZone: seleksiv1.TimeZone_TIME_ZONE_WIB, OversightApprovalRef: "B-1234/BKN/2026", Committee: members,
		Requirements: &seleksiv1.Requirements{MinEducation: seleksiv1.EducationLevel_EDUCATION_LEVEL_BACHELOR,
			MinYearsExperience: 5, MinYearsAdministratorPost: 2, MaxAgeYears: 56},
		AnnouncementWorkingDays: days, MinApplicants: 1,
		InsufficientApplicantsPolicy: seleksiv1.InsufficientApplicantsPolicy_INSUFFICIENT_APPLICANTS_POLICY_CONTINUE,
		ObjectionWindowWorkingDays:   2,
		ScoreWeights:                 &seleksiv1.ScoreWeights{WrittenTest: 15, CompetencyTest: 40, Paper: 10, Interview: 20, TrackRecord: 15},
		TieBreakRule:                 seleksiv1.TieBreakRule_TIE_BREAK_RULE_WEIGHT_ORDER,
		PublishScores:                true,
		// The service ships 2026's list only; with the time scale a selection's clock
		// reaches the next years within minutes.
		HolidayOverrides: []*seleksiv1.HolidayOverride{
			{Date: "2027-01-01", Description: "Tahun Baru 2027 Masehi"},
			{Date: "2028-01-01", Description: "Tahun Baru 2028 Masehi"},
		},
	}
}

// applicationOf is candidate i's application: eligible, with a NIP, e-mail and phone of
// their own.
func applicationOf(i int) *seleksiv1.Application {
	return &seleksiv1.Application{
		Candidate: &seleksiv1.CandidateProfile{
			FullName: fmt.Sprintf("Kandidat Uji %05d, S.T.", i), Nip: fmt.Sprintf("1980010120050%05d", i),
			Email: fmt.Sprintf("kandidat%05d@contoh.go.id", i), Phone: fmt.Sprintf("+6281200%05d", i),
			BirthDate:      fmt.Sprintf("19%02d-%02d-%02d", 72+i%12, i%12+1, i%28+1),
			EducationLevel: seleksiv1.EducationLevel_EDUCATION_LEVEL_MASTER, EducationMajor: "Kesehatan Masyarakat",
			YearsOfExperience: uint32(10 + i%10), YearsInAdministratorPost: uint32(3 + i%4),
			CurrentPost: "Sekretaris Dinas", CurrentPostLevel: seleksiv1.PostLevel_POST_LEVEL_ADMINISTRATOR,
			CurrentAgency: "Pemerintah Kota Contoh",
		},
		Statement: "Saya siap memimpin Dinas Kesehatan.",
	}
}

// committeeToken is a token of member on the committee of sels.
func committeeToken(env *bench.Env, member string, sels ...*prepared) (string, error) {
	ids := make([]string, len(sels))
	for i, p := range sels {
		ids[i] = p.ID
	}
	return env.Mint(auth.MintOptions{Subject: member, Role: auth.RoleCommittee, Selections: ids})
}

// requestID is a fresh idempotency key.
func requestID(prefix string) string { return prefix + "-" + bench.RandomHex(8) }

// errorKind names a failed call for the recorder: its gRPC code.
func errorKind(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return status.Code(err).String()
}
