package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

func selectionCreate() *command {
	var file, id string
	return &command{
		path: "selection create", args: "-f selection.yaml [--id ID]", nargs: 0, mutating: true,
		summary: "create a selection from a YAML file and open its announcement (admin)",
		help: `The file holds one Selection message in YAML: field names as in the proto
(position_title, committee, score_weights, ...), enums by name (TIME_ZONE_WIB). It is checked
against the API's rules before it is sent. See internal/cli/testdata/selection.yaml.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&file, "f", "", "the selection, a YAML `FILE`; - reads stdin (required)")
			fs.StringVar(&id, "id", "", "the selection's ID, 3-63 of a-z 0-9 -; default chosen by the server")
		},
		run: func(ctx context.Context, inv *invocation, _ []string) error {
			sel := &seleksiv1.Selection{}
			if err := inv.loadYAML("f", file, sel); err != nil {
				return err
			}
			if id != "" && !validID(id) {
				return usageErrorf("--id %q: want 3 to 63 lowercase letters, digits and hyphens", id)
			}
			resp, err := inv.selections.CreateSelection(ctx, &seleksiv1.CreateSelectionRequest{
				RequestId: inv.requestID, SelectionId: id, Selection: sel,
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) {
				inv.selectionTable(t, resp.GetSelection())
				planTable(t, resp.GetAnnouncementPlan())
			})
		},
	}
}

// planTable shows the announcement window the server computed at creation, in the agency's
// own time zone.
func planTable(t *table, p *seleksiv1.AnnouncementPlan) {
	if p == nil {
		return
	}
	t.blank()
	t.field("Announcement opens", p.GetOpenLocalTime())
	t.field("Announcement closes", p.GetCloseLocalTime()+" (last day "+p.GetLastDay()+")")
	if p.GetExtensionsPossible() {
		t.field("Latest close", p.GetLatestCloseLocalTime()+" with every extension (last day "+p.GetLatestLastDay()+")")
	}
}

func selectionGet() *command {
	return &command{
		path: "selection get", args: "ID", nargs: 1,
		summary: "show a selection (public)",
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.selections.GetSelection(ctx, &seleksiv1.GetSelectionRequest{Name: name})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { inv.selectionTable(t, resp.GetSelection()) })
		},
	}
}

// pageFlags are the paging and filtering flags of the list commands.
type pageFlags struct {
	filter, orderBy, pageToken string
	pageSize                   int
}

func (p *pageFlags) register(fs *flag.FlagSet, order bool) {
	fs.StringVar(&p.filter, "filter", "", "AIP-160 filter, such as 'stage = STAGE_INTERVIEW'")
	fs.IntVar(&p.pageSize, "page-size", 0, "most items to return, up to 1000; 0 is the server's default")
	fs.StringVar(&p.pageToken, "page-token", "", "next_page_token of the previous page")
	if order {
		fs.StringVar(&p.orderBy, "order-by", "", "sort order, such as 'create_time desc'")
	}
}

// nextPage tells people how to get the next page; on stderr, so the table stays clean.
func (inv *invocation) nextPage(token string) {
	if token != "" && inv.g.output == "table" {
		fmt.Fprintf(inv.app.Stderr, "more: add --page-token %s\n", token)
	}
}

func selectionList() *command {
	var p pageFlags
	return &command{
		path: "selection list", args: "[--filter F] [--page-size N] [--page-token T]", nargs: 0,
		summary: "list selections (public)",
		flags:   func(fs *flag.FlagSet) { p.register(fs, true) },
		run: func(ctx context.Context, inv *invocation, _ []string) error {
			resp, err := inv.selections.ListSelections(ctx, &seleksiv1.ListSelectionsRequest{
				PageSize: int32(p.pageSize), PageToken: p.pageToken, Filter: p.filter, OrderBy: p.orderBy,
			})
			if err != nil {
				return err
			}
			err = inv.print(resp, func(t *table) {
				t.row("NAME", "POSITION", "AGENCY", "STAGE", "STAGE CLOSES", "APPLICATIONS")
				for _, s := range resp.GetSelections() {
					t.row(s.GetName(), s.GetPositionTitle(), s.GetAgency(), stageSlug(s.GetStage()),
						fmtTime(s.GetStageCloseTime()), strconv.Itoa(int(s.GetApplicationCounts().GetTotal())))
				}
			})
			inv.nextPage(resp.GetNextPageToken())
			return err
		},
	}
}

func selectionAdvance() *command {
	var stage, reason string
	return &command{
		path: "selection advance", args: "ID --stage STAGE [--reason TEXT]", nargs: 1, mutating: true,
		summary: "close the current stage, publish its result and open the next (committee)",
		help: `--stage names the stage being closed, the one you believe is current. If the
selection has already moved on (someone else advanced it), the server refuses with exit code 6
instead of skipping a stage.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&stage, "stage", "", "the current stage, the one to close (required)")
			fs.StringVar(&reason, "reason", "", "a note for the audit trail")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "stage"); err != nil {
				return err
			}
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			st, err := parseStage(stage)
			if err != nil {
				return err
			}
			resp, err := inv.selections.AdvanceSelection(ctx, &seleksiv1.AdvanceSelectionRequest{
				Name: name, RequestId: inv.requestID, ExpectedStage: st, Reason: reason,
			})
			if err != nil {
				return err
			}
			return inv.printSelectionAndResult(resp, resp.GetSelection(), resp.GetPublishedResult())
		},
	}
}

func selectionDecide() *command {
	var ranks multiFlag
	var statement string
	return &command{
		path: "selection decide", args: "ID --rank APP:REASON ... [--statement TEXT]", nargs: 1, mutating: true,
		summary: "record the committee's ranked shortlist of up to three (committee)",
		help: `Give --rank once per shortlisted application, best first: the first --rank is rank 1.
APP is the application's ID or full name; REASON is the committee's reasons for it.
With fewer than three names, --statement must say why fewer qualify.`,
		flags: func(fs *flag.FlagSet) {
			fs.Var(&ranks, "rank", "`APP:REASON`, repeatable, in rank order (1 to 3 times)")
			fs.StringVar(&statement, "statement", "", "why fewer than three applications qualify")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			if len(ranks) > 3 {
				return usageErrorf("at most three --rank, got %d", len(ranks))
			}
			if len(ranks) < 3 && strings.TrimSpace(statement) == "" {
				return usageErrorf("--statement is required when fewer than three applications are ranked")
			}
			req := &seleksiv1.DecideSelectionRequest{Name: name, RequestId: inv.requestID, ShortfallStatement: statement}
			for i, r := range ranks {
				app, reason, ok := strings.Cut(r, ":")
				if !ok || strings.TrimSpace(reason) == "" {
					return usageErrorf("--rank %q: want APP:REASON", r)
				}
				appName, err := applicationIn(name, strings.TrimSpace(app))
				if err != nil {
					return err
				}
				req.Ranked = append(req.Ranked, &seleksiv1.RankedCandidate{
					Application: appName, Rank: uint32(i + 1), Reason: strings.TrimSpace(reason),
				})
			}
			resp, err := inv.selections.DecideSelection(ctx, req)
			if err != nil {
				return err
			}
			return inv.printSelectionAndResult(resp, resp.GetSelection(), resp.GetPublishedResult())
		},
	}
}

func selectionAppoint() *command {
	var app, decree, oversight, reason, justification string
	return &command{
		path: "selection appoint", args: "ID --application APP --ppk-decree REF --oversight-ref REF [--justification TEXT] [--reason TEXT]",
		nargs: 1, mutating: true,
		summary: "record the appointing official's choice and close the selection (admin)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&app, "application", "", "the chosen application, ID or full name (required)")
			fs.StringVar(&decree, "ppk-decree", "", "reference of the PPK's appointment decree (required)")
			fs.StringVar(&oversight, "oversight-ref", "", "reference of the oversight body's recommendation (required)")
			fs.StringVar(&reason, "reason", "", "a note for the audit trail")
			fs.StringVar(&justification, "justification", "", "why the PPK chose rank 2 or 3 (required then; published)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "application", "ppk-decree", "oversight-ref"); err != nil {
				return err
			}
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			appName, err := applicationIn(name, app)
			if err != nil {
				return err
			}
			resp, err := inv.selections.AppointCandidate(ctx, &seleksiv1.AppointCandidateRequest{
				Name: name, RequestId: inv.requestID, Application: appName,
				PpkDecreeRef: decree, OversightRecommendationRef: oversight, Reason: reason, Justification: justification,
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { inv.selectionTable(t, resp.GetSelection()) })
		},
	}
}

func selectionCancel() *command {
	var reason string
	return &command{
		path: "selection cancel", args: "ID --reason TEXT", nargs: 1, mutating: true,
		summary: "cancel a selection that has not closed (admin)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&reason, "reason", "", "why; published with the selection (required)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "reason"); err != nil {
				return err
			}
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.selections.CancelSelection(ctx, &seleksiv1.CancelSelectionRequest{
				Name: name, RequestId: inv.requestID, Reason: reason,
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { inv.selectionTable(t, resp.GetSelection()) })
		},
	}
}

func selectionResume() *command {
	var reason string
	return &command{
		path: "selection resume", args: "ID [--reason TEXT]", nargs: 1, mutating: true,
		summary: "retry a blocked selection's step now, once its cause is fixed (admin)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&reason, "reason", "", "what was fixed; kept in the audit trail")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.selections.ResumeSelection(ctx, &seleksiv1.ResumeSelectionRequest{
				Name: name, RequestId: inv.requestID, Reason: reason,
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { inv.selectionTable(t, resp.GetSelection()) })
		},
	}
}

func selectionResults() *command {
	var revision uint
	return &command{
		path: "selection results", args: "ID STAGE [--revision N]", nargs: 2,
		summary: "show the published result of one stage (public)",
		flags: func(fs *flag.FlagSet) {
			fs.UintVar(&revision, "revision", 0, "the revision to show; 0 is the latest")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			st, err := parseStage(args[1])
			if err != nil {
				return err
			}
			if st > seleksiv1.Stage_STAGE_COMMITTEE_DECISION {
				return usageErrorf("stage %s has no published result", stageSlug(st))
			}
			resp, err := inv.selections.GetStageResult(ctx, &seleksiv1.GetStageResultRequest{
				Name: name + "/results/" + stageSlug(st), Revision: uint32(revision),
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { stageResultTable(t, resp.GetResult()) })
		},
	}
}

func conflictDeclare() *command {
	var member, app, relationship, reason string
	return &command{
		path: "conflict declare", args: "ID --member M --application APP --relationship R [--reason TEXT]",
		nargs: 1, mutating: true,
		summary: "declare a committee member's conflict of interest with an application (committee)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&member, "member", "", "the committee member's ID (required)")
			fs.StringVar(&app, "application", "", "the application, ID or full name (required)")
			fs.StringVar(&relationship, "relationship", "", `the relationship, such as "relative" (required)`)
			fs.StringVar(&reason, "reason", "", "further explanation")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "member", "application", "relationship"); err != nil {
				return err
			}
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			appName, err := applicationIn(name, app)
			if err != nil {
				return err
			}
			resp, err := inv.selections.DeclareConflict(ctx, &seleksiv1.DeclareConflictRequest{
				Name: name, RequestId: inv.requestID, MemberId: member, Application: appName,
				Relationship: relationship, Reason: reason,
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) {
				c := resp.GetConflict()
				t.field("Member", c.GetMemberId())
				t.field("Application", c.GetApplication())
				t.field("Relationship", c.GetRelationship())
				t.field("Reason", c.GetReason())
				t.field("Declared by", c.GetDeclaredBy())
				t.field("Declared", fmtTime(c.GetDeclareTime()))
			})
		},
	}
}

// selectionTable is the detail view of a selection.
func (inv *invocation) selectionTable(t *table, s *seleksiv1.Selection) {
	t.field("Name", s.GetName())
	t.field("Position", s.GetPositionTitle())
	t.field("Unit", s.GetPositionUnit())
	t.field("Agency", s.GetAgency())
	t.field("Stage", stageSlug(s.GetStage()))
	t.field("Stage opened", fmtTime(s.GetStageOpenTime()))
	t.field("Stage closes", fmtTime(s.GetStageCloseTime()))
	if s.GetStage() == seleksiv1.Stage_STAGE_SCHEDULED {
		t.field("Announcement opens", fmtTime(s.GetAnnouncementOpenTime()))
	}
	if s.GetTimeScale() > 1 {
		// On a compressed time scale the times above are selection time; these are when it
		// happens on the clock on the wall.
		t.field("Time scale", strconv.FormatFloat(s.GetTimeScale(), 'f', -1, 64)+"x")
		t.field("Opened (wall clock)", fmtTime(s.GetStageOpenWallTime()))
		t.field("Closes (wall clock)", fmtTime(s.GetStageCloseWallTime()))
	}
	if c := s.GetApplicationCounts(); c != nil {
		t.row("Applications", fmt.Sprintf("%d total: %d submitted, %d in progress, %d eliminated, %d withdrawn, %d decided",
			c.GetTotal(), c.GetSubmitted(), c.GetInProgress(), c.GetEliminated(), c.GetWithdrawn(), c.GetDecided()))
	}
	if s.GetExtensionsUsed() > 0 {
		t.row("Extensions", fmt.Sprintf("%d of %d", s.GetExtensionsUsed(), s.GetMaxExtensions()))
	}
	t.field("Appointed", s.GetAppointedApplication())
	t.field("PPK decree", s.GetPpkDecreeRef())
	t.field("Oversight ref", s.GetOversightRecommendationRef())
	t.field("Cancelled", s.GetCancelReason())
	if b := s.GetBlocked(); b != nil {
		t.row("Blocked", fmt.Sprintf("%s since %s (%d attempt(s)): %s", b.GetReason(), fmtTime(b.GetSinceTime()), b.GetAttempts(), b.GetMessage()))
		t.field("What to do", b.GetRemedy())
	}
	if ts := s.GetTimeScale(); ts > 1 {
		t.row("Time scale", fmtScore(ts)+"x (demo or test server)")
	}
	t.field("Workflow", s.GetWorkflowId())
	t.field("Created", fmtTime(s.GetCreateTime()))
	if m := s.GetCommittee(); len(m) > 0 {
		t.blank()
		t.row("MEMBER", "NAME", "ROLE", "KIND", "POST LEVEL")
		for _, c := range m {
			t.row(c.GetMemberId(), c.GetDisplayName(), slug(c.GetRole()), slug(c.GetKind()), slug(c.GetPostLevel()))
		}
	}
	if cs := s.GetConflicts(); len(cs) > 0 {
		t.blank()
		t.row("CONFLICT MEMBER", "APPLICATION", "RELATIONSHIP")
		for _, c := range cs {
			t.row(c.GetMemberId(), c.GetApplication(), c.GetRelationship())
		}
	}
}

// stageResultTable is a published stage result as announced.
func stageResultTable(t *table, r *seleksiv1.StageResult) {
	t.field("Result", r.GetName())
	t.field("Stage", stageSlug(r.GetStage()))
	t.row("Revision", strconv.Itoa(int(r.GetRevision())))
	t.field("Revision reason", r.GetRevisionReason())
	t.field("Published", fmtTime(r.GetPublishTime()))
	t.field("Objections until", fmtTime(r.GetObjectionDeadline()))
	t.blank()
	head := []string{"RANK", "APPLICATION", "CANDIDATE", "OUTCOME"}
	if r.GetScoresPublished() {
		head = append(head, "SCORES", "FINAL")
	}
	t.row(append(head, "REASON")...)
	for _, e := range r.GetEntries() {
		rank := ""
		if e.GetRank() > 0 {
			rank = strconv.Itoa(int(e.GetRank()))
		}
		row := []string{rank, e.GetApplication(), e.GetCandidateName(), slug(e.GetOutcome())}
		if r.GetScoresPublished() {
			final := ""
			if e.GetFinalScore() != 0 {
				final = fmtScore(e.GetFinalScore())
			}
			row = append(row, fmtScores(e.GetScores()), final)
		}
		t.row(append(row, e.GetReason())...)
	}
}

// printSelectionAndResult prints a command's answer: the selection as it now stands and, when
// the command published one, the stage result.
func (inv *invocation) printSelectionAndResult(resp proto.Message, sel *seleksiv1.Selection, published *seleksiv1.StageResult) error {
	return inv.print(resp, func(t *table) {
		inv.selectionTable(t, sel)
		if published != nil {
			t.blank()
			stageResultTable(t, published)
		}
	})
}
