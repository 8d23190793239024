package cli

import (
	"context"
	"flag"
	"path/filepath"
	"strconv"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

func applicationSubmit() *command {
	var file string
	return &command{
		path: "application submit", args: "ID -f application.yaml", nargs: 1, mutating: true,
		summary: "submit an application to a selection while its announcement is open (candidate)",
		help: `The file holds one Application message in YAML: candidate (full_name, nip, email,
birth_date, education_level, ...), documents and statement. Quote the NIP and dates so YAML
keeps them as text. See internal/cli/testdata/application.yaml.

Each document names its kind (the selection's required document) and either an uploaded
document (document: documents/ID, from 'seleksictl document upload') or a local file
(file: ./ijazah.pdf, relative to the application file), which is uploaded first to --http,
resumably as 'document upload' does; the application is then submitted naming the
documents the server made of the files. Every required document must be present.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&file, "f", "", "the application, a YAML `FILE`; - reads stdin (required)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			parent, err := selectionName(args[0])
			if err != nil {
				return err
			}
			b, err := inv.readInput("f", file)
			if err != nil {
				return err
			}
			dir := "."
			if file != "-" {
				dir = filepath.Dir(file)
			}
			app, locals, err := decodeApplication(b, file, dir)
			if err != nil {
				return err
			}
			if err := inv.uploadLocalDocuments(ctx, parent, app, locals); err != nil {
				return err
			}
			resp, err := inv.application.SubmitApplication(ctx, &seleksiv1.SubmitApplicationRequest{
				Parent: parent, RequestId: inv.requestID, Application: app,
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { inv.applicationTable(t, resp.GetApplication(), true) })
		},
	}
}

func applicationGet() *command {
	return &command{
		path: "application get", args: "NAME", nargs: 1,
		summary: "show an application with its per-stage results (candidate: own)",
		help:    "NAME is selections/SELECTION/applications/APP or SELECTION/APP.",
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := applicationName(args[0])
			if err != nil {
				return err
			}
			return inv.showApplication(ctx, name, true)
		},
	}
}

func statusCommand() *command {
	return &command{
		path: "status", args: "ID APP", nargs: 2,
		summary: "a candidate's view of an application: state, status text and results",
		run: func(ctx context.Context, inv *invocation, args []string) error {
			sel, err := selectionName(args[0])
			if err != nil {
				return err
			}
			name, err := applicationIn(sel, args[1])
			if err != nil {
				return err
			}
			return inv.showApplication(ctx, name, false)
		},
	}
}

func (inv *invocation) showApplication(ctx context.Context, name string, full bool) error {
	resp, err := inv.application.GetApplication(ctx, &seleksiv1.GetApplicationRequest{Name: name})
	if err != nil {
		return err
	}
	return inv.print(resp, func(t *table) { inv.applicationTable(t, resp.GetApplication(), full) })
}

func applicationList() *command {
	var p pageFlags
	return &command{
		path: "application list", args: "ID [--filter F] [--page-size N] [--page-token T]", nargs: 1,
		summary: "list a selection's applications (committee, admin, auditor; a candidate sees own)",
		flags:   func(fs *flag.FlagSet) { p.register(fs, true) },
		run: func(ctx context.Context, inv *invocation, args []string) error {
			parent, err := selectionName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.application.ListApplications(ctx, &seleksiv1.ListApplicationsRequest{
				Parent: parent, PageSize: int32(p.pageSize), PageToken: p.pageToken, Filter: p.filter, OrderBy: p.orderBy,
			})
			if err != nil {
				return err
			}
			err = inv.print(resp, func(t *table) {
				t.row("NAME", "CANDIDATE", "STATE", "STAGE", "FINAL", "RANK", "SUBMITTED")
				for _, a := range resp.GetApplications() {
					final, rank := "", ""
					if a.GetFinalScore() != 0 {
						final = fmtScore(a.GetFinalScore())
					}
					if a.GetRank() > 0 {
						rank = strconv.Itoa(int(a.GetRank()))
					}
					t.row(a.GetName(), a.GetCandidate().GetFullName(), slug(a.GetState()), stageSlug(a.GetCurrentStage()),
						final, rank, fmtTime(a.GetSubmitTime()))
				}
			})
			inv.nextPage(resp.GetNextPageToken())
			return err
		},
	}
}

func applicationWithdraw() *command {
	var reason string
	return &command{
		path: "application withdraw", args: "NAME [--reason TEXT]", nargs: 1, mutating: true,
		summary: "withdraw an application (candidate: own)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&reason, "reason", "", "why, kept in the audit trail")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := applicationName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.application.WithdrawApplication(ctx, &seleksiv1.WithdrawApplicationRequest{
				Name: name, RequestId: inv.requestID, Reason: reason,
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { inv.applicationTable(t, resp.GetApplication(), false) })
		},
	}
}

// applicationTable shows an application; full adds the candidate's profile and documents,
// which the candidate's status view leaves out.
func (inv *invocation) applicationTable(t *table, a *seleksiv1.Application, full bool) {
	c := a.GetCandidate()
	t.field("Application", a.GetName())
	t.field("Candidate", c.GetFullName())
	t.field("State", slug(a.GetState()))
	t.field("Status", inv.localized(a.GetStatusText()))
	t.field("Stage", stageSlug(a.GetCurrentStage()))
	if a.GetEliminatedStage() != 0 {
		t.field("Eliminated at", stageSlug(a.GetEliminatedStage()))
	}
	t.field("Reason", inv.localized(a.GetEliminationReason()))
	if a.GetFinalScore() != 0 {
		t.field("Final score", fmtScore(a.GetFinalScore()))
	}
	if a.GetRank() > 0 {
		t.field("Rank", strconv.Itoa(int(a.GetRank())))
	}
	t.field("Submitted", fmtTime(a.GetSubmitTime()))
	if full {
		t.field("NIP", c.GetNip())
		t.field("E-mail", c.GetEmail())
		t.field("Phone", c.GetPhone())
		t.field("Education", strings.TrimSpace(slug(c.GetEducationLevel())+" "+c.GetEducationMajor()))
		t.field("Current post", c.GetCurrentPost())
		t.field("Current agency", c.GetCurrentAgency())
		t.field("Owner", a.GetOwner())
	}
	if rs := a.GetStageResults(); len(rs) > 0 {
		t.blank()
		t.row("STAGE", "OUTCOME", "SCORES", "CATEGORY", "PUBLISHED", "REASON")
		for _, r := range rs {
			published := "no"
			if r.GetPublished() {
				published = "yes"
			}
			t.row(stageSlug(r.GetStage()), slug(r.GetOutcome()), fmtScores(r.GetScores()),
				slug(r.GetCompetencyCategory()), published, r.GetReason())
		}
	}
	if cl := a.GetChecklist(); len(cl) > 0 {
		t.blank()
		t.row("REQUIREMENT", "STATUS", "PROPOSED", "FINDING", "NOTE", "VERIFIED BY", "VERIFIED")
		for _, it := range cl {
			t.row(it.GetItem(), slug(it.GetStatus()), slug(it.GetProposedStatus()), it.GetFinding().GetId(), it.GetNote(),
				it.GetVerifiedBy(), fmtTime(it.GetVerifyTime()))
		}
	}
	if ds := a.GetDocuments(); full && len(ds) > 0 {
		t.blank()
		t.row("KIND", "DOCUMENT", "FILE", "TYPE", "SIZE", "SHA-256")
		for _, d := range ds {
			t.row(d.GetKind(), d.GetDocument(), d.GetFileName(), d.GetMediaType(), strconv.FormatInt(d.GetSizeBytes(), 10), d.GetSha256())
		}
	}
}

func objectionFile() *command {
	var stage, reason, document string
	var items multiFlag
	return &command{
		path: "objection file", args: "APPNAME --stage STAGE --reason TEXT [--item ITEM]... [--document documents/ID]", nargs: 1, mutating: true,
		summary: "object (sanggah) to a published stage result (candidate: own)",
		help: `Against the administrative screening result, name each unmet requirement item you contest
with --item (education, experience, administrator_post, age, document:<id> or an item the agency
added, as your application's checklist shows them). --document attaches a clarifying document
you uploaded, only where the selection allows new documents in objections.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&stage, "stage", "", "the stage whose published result you object to (required)")
			fs.StringVar(&reason, "reason", "", "what you object to and why (required)")
			fs.Var(&items, "item", "a contested requirement `ITEM` (administrative screening; repeatable)")
			fs.StringVar(&document, "document", "", "a clarifying document, `documents/ID`, where the selection allows one")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "stage", "reason"); err != nil {
				return err
			}
			parent, err := applicationName(args[0])
			if err != nil {
				return err
			}
			st, err := parseStage(stage)
			if err != nil {
				return err
			}
			resp, err := inv.application.FileObjection(ctx, &seleksiv1.FileObjectionRequest{
				Parent: parent, RequestId: inv.requestID,
				Objection: &seleksiv1.Objection{Stage: st, Reason: reason, Items: items, Document: document},
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { objectionTable(t, resp.GetObjection()) })
		},
	}
}

func objectionList() *command {
	var p pageFlags
	return &command{
		path: "objection list", args: "APPNAME [--page-size N] [--page-token T]", nargs: 1,
		summary: "list an application's objections; SELECTION/- lists a whole selection's",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&p.pageSize, "page-size", 0, "most items to return, up to 1000; 0 is the server's default")
			fs.StringVar(&p.pageToken, "page-token", "", "next_page_token of the previous page")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			parent, err := objectionParent(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.application.ListObjections(ctx, &seleksiv1.ListObjectionsRequest{
				Parent: parent, PageSize: int32(p.pageSize), PageToken: p.pageToken,
			})
			if err != nil {
				return err
			}
			err = inv.print(resp, func(t *table) {
				t.row("NAME", "STAGE", "STATE", "FILED", "REASON", "ANSWER")
				for _, o := range resp.GetObjections() {
					t.row(o.GetName(), stageSlug(o.GetStage()), slug(o.GetState()), fmtTime(o.GetCreateTime()),
						o.GetReason(), o.GetAnswer())
				}
			})
			inv.nextPage(resp.GetNextPageToken())
			return err
		},
	}
}

func objectionAnswer() *command {
	var accept, reject bool
	var answer, outcome, category, resultReason string
	var scores, itemAnswers multiFlag
	return &command{
		path: "objection answer", args: "NAME (--accept|--reject) --answer TEXT [corrected result flags | --item ITEM=accept|reject:ANSWER...]",
		nargs: 1, mutating: true,
		summary: "accept or reject an objection (committee)",
		help: `An accepted objection corrects the application's result at the objection's stage and
re-publishes the stage result, so --accept needs the corrected result: --outcome, and as the
stage needs them --score COMPONENT=VALUE (repeatable), --category and --result-reason.
An objection naming requirement items is answered item by item instead, with one
--item ITEM=accept:ANSWER or --item ITEM=reject:ANSWER per contested item; --accept when at
least one item is accepted (accepted items become met and the result is re-published),
--reject otherwise.
NAME is selections/S/applications/A/objections/O or S/A/O.`,
		flags: func(fs *flag.FlagSet) {
			fs.Var(&itemAnswers, "item", "the answer to a contested item, `ITEM=accept:ANSWER` or ITEM=reject:ANSWER (repeatable)")
			fs.BoolVar(&accept, "accept", false, "accept the objection and correct the result")
			fs.BoolVar(&reject, "reject", false, "reject the objection; the result stands")
			fs.StringVar(&answer, "answer", "", "the answer to the candidate (required)")
			fs.StringVar(&outcome, "outcome", "", "corrected outcome: pass, fail or none (with --accept)")
			fs.Var(&scores, "score", "corrected score `COMPONENT=VALUE`, such as interview=82.5 (with --accept, repeatable)")
			fs.StringVar(&category, "category", "", "corrected competency category: MS, MMS, KMS/BMS (with --accept)")
			fs.StringVar(&resultReason, "result-reason", "", "the corrected result's reason, published with it (with --accept)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if accept == reject {
				return usageErrorf("give exactly one of --accept and --reject")
			}
			if err := requireFlags(inv.fs, "answer"); err != nil {
				return err
			}
			name, err := objectionName(args[0])
			if err != nil {
				return err
			}
			req := &seleksiv1.AnswerObjectionRequest{Name: name, RequestId: inv.requestID, Accepted: accept, Answer: answer}
			for _, ia := range itemAnswers {
				item, rest, ok := strings.Cut(ia, "=")
				verdict, text, ok2 := strings.Cut(rest, ":")
				if !ok || !ok2 || (verdict != "accept" && verdict != "reject") || strings.TrimSpace(text) == "" {
					return usageErrorf("--item %q: want ITEM=accept:ANSWER or ITEM=reject:ANSWER", ia)
				}
				req.ItemAnswers = append(req.ItemAnswers, &seleksiv1.ItemAnswer{Item: item, Accepted: verdict == "accept", Answer: text})
			}
			if len(req.ItemAnswers) > 0 {
				if inv.fs.Lookup("outcome").Value.String() != "" || len(scores) > 0 || category != "" || resultReason != "" {
					return usageErrorf("an objection answered item by item takes no corrected result flags")
				}
			} else if accept {
				if err := requireFlags(inv.fs, "outcome"); err != nil {
					return err
				}
				app := name[:strings.LastIndex(name, "/objections/")]
				res := &seleksiv1.ApplicationResult{Application: app, Reason: resultReason}
				if res.Outcome, err = parseOutcome(outcome); err != nil {
					return usageErrorf("--outcome: %v", err)
				}
				if category != "" {
					if res.CompetencyCategory, err = parseCategory(category); err != nil {
						return usageErrorf("--category: %v", err)
					}
				}
				for _, s := range scores {
					comp, val, ok := strings.Cut(s, "=")
					if !ok {
						return usageErrorf("--score %q: want COMPONENT=VALUE", s)
					}
					cs, err := parseComponentScore(comp, val)
					if err != nil {
						return usageErrorf("--score %q: %v", s, err)
					}
					res.Scores = append(res.Scores, cs)
				}
				req.CorrectedResult = res
			} else if inv.fs.Lookup("outcome").Value.String() != "" || len(scores) > 0 || category != "" || resultReason != "" {
				return usageErrorf("a rejected objection keeps the result: corrected result flags go with --accept only")
			}
			resp, err := inv.application.AnswerObjection(ctx, req)
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) {
				objectionTable(t, resp.GetObjection())
				if r := resp.GetRepublishedResult(); r != nil {
					t.blank()
					stageResultTable(t, r)
				}
			})
		},
	}
}

func objectionTable(t *table, o *seleksiv1.Objection) {
	t.field("Objection", o.GetName())
	t.field("Stage", stageSlug(o.GetStage()))
	t.field("State", slug(o.GetState()))
	t.field("Reason", o.GetReason())
	if len(o.GetItems()) > 0 {
		t.field("Items", strings.Join(o.GetItems(), ", "))
	}
	if o.GetDocument() != "" {
		t.field("Document", o.GetDocument())
	}
	t.field("Filed", fmtTime(o.GetCreateTime()))
	t.field("Answer", o.GetAnswer())
	t.field("Answered by", o.GetAnsweredBy())
	t.field("Answered", fmtTime(o.GetAnswerTime()))
	for _, a := range o.GetItemAnswers() {
		verdict := "rejected"
		if a.GetAccepted() {
			verdict = "accepted"
		}
		t.field("Item "+a.GetItem(), verdict+": "+a.GetAnswer())
	}
}
