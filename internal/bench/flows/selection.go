package flows

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents/doctest"
	"github.com/bkpsdm/seleksi/internal/documents/tusclient"
)

// committee are the members' token subjects: the chair, the secretary, then three members.
var committeeIDs = [...]string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"}

// requiredDocuments are what candidates upload before applying, when a plan asks for them.
var requiredDocuments = [...]string{"lhkpn", "surat_sehat"}

// plan is one selection a scenario runs.
type plan struct {
	// id is the selection's ID, unique in the run.
	id string
	// applicants is how many candidates apply.
	applicants int
	// documents makes every candidate upload the required documents before applying.
	documents bool
	// intake is how long (wall time) the announcement must stay open for the candidates to
	// apply; the announcement lasts enough working days at the server's time scale.
	intake time.Duration
	// secondsPerDay is the server's time scale.
	secondsPerDay int64
	// stageWait bounds each wait for a stage that opens by a timer, beyond its due time.
	stageWait time.Duration
	// check lists every application at the end and checks its final state and the ranking
	// (costly for large selections).
	check bool
}

// announcementDays is the length of the announcement in working days that keeps it open for
// p.intake: the first day may be almost over, so one more than the whole days needed. The
// service allows at most 60.
func (p plan) announcementDays() int {
	if p.secondsPerDay <= 0 {
		return 1
	}
	days := int(math.Ceil(p.intake.Seconds()/float64(p.secondsPerDay))) + 1
	return max(1, min(days, 60))
}

// run is one selection in progress and what was measured of it.
type run struct {
	c     *Client
	p     plan
	admin string
	// members are the committee's tokens, in the order of committeeIDs.
	members [len(committeeIDs)]string
	// apps are the applications in the order the candidates applied: the k-th candidate's
	// scores are scoreOf(k).
	apps  []string
	index map[string]int
	seq   int
	// stages are the wall-clock instants the flow saw, by step, for the per-stage figures.
	stages []stageMark
	// commands counts the committee's and secretariat's commands accepted.
	commands atomic.Int64
	// commandLatency is each accepted command's, retries included.
	commandLatency []time.Duration
	workflow       string
	// openDelay is how long after the create answered the announcement window opened.
	openDelay time.Duration
	final     selectionJSON
}

// stageMark is a step of the flow and when it ended.
type stageMark struct {
	step string
	at   time.Time
}

func newRun(c *Client, p plan) (*run, error) {
	r := &run{c: c, p: p, index: map[string]int{}}
	var err error
	if r.admin, err = c.token(auth.RoleAdmin, "bench-admin"); err != nil {
		return nil, err
	}
	for i, m := range committeeIDs {
		if r.members[i], err = c.token(auth.RoleCommittee, m, p.id); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *run) chair() string     { return r.members[0] }
func (r *run) secretary() string { return r.members[1] }

func (r *run) reqID(tag string) string {
	r.seq++
	return fmt.Sprintf("%s-%s-%d", r.p.id, tag, r.seq)
}

func (r *run) mark(step string) { r.stages = append(r.stages, stageMark{step, time.Now()}) }

func (r *run) path(suffix string) string { return "/v1/selections/" + r.p.id + suffix }

// command sends a committee or secretariat command, with a request ID of its own tagged
// tag, and counts it. While the workflow refuses it as for another stage, it is sent again,
// with a new request ID since a refused command is not recorded, until r.p.stageWait has
// passed: the public selection shows a stage open a moment before the workflow takes
// commands for it (the store is written before the workflow's state moves on), and the
// appointment is refused until the decision's objection window has passed.
func (r *run) command(ctx context.Context, suffix, token, tag string, body map[string]any, out any) error {
	deadline := time.Now().Add(r.p.stageWait)
	for {
		body["requestId"] = r.reqID(tag)
		began := time.Now()
		err := r.c.send(ctx, opCommand, http.MethodPost, r.path(suffix), token, body, out, notYet)
		if err == nil {
			r.commands.Add(1)
			r.commandLatency = append(r.commandLatency, time.Since(began))
			return nil
		}
		if !notYet(err) || time.Now().After(deadline) {
			return fmt.Errorf("selection %s: %w", r.p.id, err)
		}
		r.c.notYet.Add(1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("selection %s: %w", r.p.id, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// whole runs the selection through every stage: creation, intake with the candidates
// applying on up to workers goroutines, screening, competency test, interview, the
// committee's decision and the appointment. While gate is not nil, creation and intake wait
// for a place in it, so that a selection's candidates apply in the few seconds its
// announcement is open rather than queueing behind every other selection's.
func (r *run) whole(ctx context.Context, workers int, gate chan struct{}) error {
	if gate != nil {
		select {
		case gate <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("selection %s: waiting to be announced: %w", r.p.id, ctx.Err())
		}
	}
	began := time.Now()
	err := r.create(ctx)
	if err == nil {
		err = r.intake(ctx, workers)
	}
	if gate != nil {
		<-gate
	}
	if err != nil {
		return err
	}
	return r.stagesAfterIntake(ctx, began)
}

// create announces the selection and waits for its announcement window to open.
func (r *run) create(ctx context.Context) error {
	q := url.Values{"requestId": {r.p.id + "-create"}, "selectionId": {r.p.id}}
	var out struct {
		Selection selectionJSON `json:"selection"`
	}
	if err := r.c.call(ctx, opCreate, http.MethodPost, "/v1/selections?"+q.Encode(), r.admin, selectionBody(r.p), &out); err != nil {
		return fmt.Errorf("create selection %s: %w", r.p.id, err)
	}
	r.workflow = out.Selection.WorkflowID
	// The workflow projects the window into the store in its first task, just after the
	// create returns on an idle server, later when its task queue has a backlog.
	created := time.Now()
	wait := max(r.p.stageWait, 30*time.Second)
	for deadline := created.Add(wait); out.Selection.StageCloseWallTime.IsZero(); {
		if time.Now().After(deadline) {
			return fmt.Errorf("selection %s: the announcement window did not open within %s of the create", r.p.id, wait)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("selection %s: waiting for the announcement window: %w", r.p.id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		sel, err := r.c.getSelection(ctx, r.p.id)
		if err != nil {
			return fmt.Errorf("selection %s: waiting for the announcement window: %w", r.p.id, err)
		}
		out.Selection = sel
	}
	r.final = out.Selection
	r.openDelay = time.Since(created)
	r.mark("create")
	return nil
}

// candidate is one applicant: their token subject and token.
type candidate struct{ subject, token string }

func (r *run) candidates() ([]candidate, error) {
	out := make([]candidate, r.p.applicants)
	for k := range out {
		out[k].subject = fmt.Sprintf("%s-c%05d", r.p.id, k)
		tok, err := r.c.token(auth.RoleCandidate, out[k].subject)
		if err != nil {
			return nil, err
		}
		out[k].token = tok
	}
	return out, nil
}

// prepare is candidate k's application body, with the required documents uploaded first
// when the plan asks for them.
func (r *run) prepare(ctx context.Context, k int, cand candidate) (map[string]any, error) {
	body := applicationBody(r.p.id, k)
	if !r.p.documents {
		return body, nil
	}
	var docs []map[string]any
	for _, kind := range requiredDocuments {
		name, err := r.upload(ctx, cand.token, kind, k)
		if err != nil {
			return nil, err
		}
		docs = append(docs, map[string]any{"kind": kind, "document": name})
	}
	body["documents"] = docs
	return body, nil
}

// upload sends one small PDF of the kind through the resumable upload route, as the
// candidate's phone does, and returns the document's name.
func (r *run) upload(ctx context.Context, token, kind string, k int) (string, error) {
	seed := fnv.New64a()
	fmt.Fprintf(seed, "%s of %d for %s", kind, k, r.p.id)
	content := doctest.PDF(2048, seed.Sum64())
	tc := &tusclient.Client{HTTP: r.c.http, Token: token, Retries: 5, Backoff: 100 * time.Millisecond}
	rec := r.c.recorder(opUpload)
	select {
	case r.c.slots <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("upload %s for candidate %d of %s: %w", kind, k, r.p.id, ctx.Err())
	}
	defer func() { <-r.c.slots }()
	began := time.Now()
	u, err := tc.Create(ctx, r.c.base+"/v1/uploads/", int64(len(content)),
		map[string]string{"selection": "selections/" + r.p.id, "kind": kind, "filename": kind + ".pdf"})
	if err == nil {
		var fin tusclient.Finished
		if fin, err = tc.Send(ctx, u, bytes.NewReader(content), int64(len(content)), nil); err == nil {
			rec.Observe(time.Since(began))
			return fin.Document, nil
		}
	}
	kindOf := "transport"
	var te *tusclient.Error
	if errors.As(err, &te) {
		kindOf = fmt.Sprint(te.Status)
	}
	rec.Fail(kindOf)
	return "", fmt.Errorf("upload %s for candidate %d of %s: %w", kind, k, r.p.id, err)
}

// submit is candidate k applying, with a request ID of their own kept across retries.
func (r *run) submit(ctx context.Context, k int, cand candidate, body map[string]any) error {
	var out struct {
		Application applicationJSON `json:"application"`
	}
	path := r.path("/applications?requestId=" + url.QueryEscape(fmt.Sprintf("%s-apply-%05d", r.p.id, k)))
	if err := r.c.call(ctx, opSubmit, http.MethodPost, path, cand.token, body, &out); err != nil {
		return fmt.Errorf("candidate %d of %s: %w", k, r.p.id, err)
	}
	if out.Application.Name == "" || out.Application.Owner != cand.subject {
		return fmt.Errorf("candidate %d of %s: accepted as %q owned by %q", k, r.p.id, out.Application.Name, out.Application.Owner)
	}
	r.accepted(k, out.Application.Name)
	return nil
}

// accepted records candidate k's application; candidates of a large selection apply from
// many goroutines, so the bookkeeping is under the client's lock.
func (r *run) accepted(k int, name string) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if len(r.apps) < r.p.applicants {
		r.apps = make([]string, r.p.applicants)
	}
	r.apps[k] = name
	r.index[name] = k
}

// stagesAfterIntake runs the selection from the close of its announcement to the
// appointment; began is when the flow started, for the deadlines.
func (r *run) stagesAfterIntake(ctx context.Context, began time.Time) error {
	closes := r.final.StageCloseWallTime
	sel, err := r.c.waitStage(ctx, r.p.id, "STAGE_ADMINISTRATIVE_SCREENING", closes, closes.Add(r.p.stageWait))
	if err != nil {
		return err
	}
	if sel.ApplicationCounts.Total != r.p.applicants {
		return fmt.Errorf("selection %s: %d applications at the close of the announcement, want %d", r.p.id, sel.ApplicationCounts.Total, r.p.applicants)
	}
	r.mark("announcement closed")
	for _, st := range []struct{ stage, next, filter string }{
		{"STAGE_ADMINISTRATIVE_SCREENING", "STAGE_COMPETENCY_TEST", "state = APPLICATION_STATE_SUBMITTED"},
		{"STAGE_COMPETENCY_TEST", "STAGE_INTERVIEW", "state = APPLICATION_STATE_IN_PROGRESS"},
		{"STAGE_INTERVIEW", "STAGE_COMMITTEE_DECISION", "state = APPLICATION_STATE_IN_PROGRESS"},
	} {
		in, err := r.c.listApplications(ctx, r.p.id, r.secretary(), st.filter, "", 0)
		if err != nil {
			return fmt.Errorf("selection %s: listing the applications of %s: %w", r.p.id, st.stage, err)
		}
		if err := r.record(ctx, st.stage, in); err != nil {
			return err
		}
		var pub published
		if err := r.command(ctx, ":advance", r.chair(), "advance", map[string]any{"expectedStage": st.stage}, &pub); err != nil {
			return err
		}
		r.mark(stageStep(st.stage))
		due := pub.Selection.wallOf(pub.PublishedResult.ObjectionDeadline)
		if _, err := r.c.waitStage(ctx, r.p.id, st.next, due, due.Add(r.p.stageWait)); err != nil {
			return err
		}
		r.mark(stageStep(st.stage) + " objections")
	}
	if err := r.decideAndAppoint(ctx); err != nil {
		return err
	}
	final, err := r.c.getSelection(ctx, r.p.id)
	if err != nil {
		return fmt.Errorf("selection %s: reading it after the appointment: %w", r.p.id, err)
	}
	r.final = final
	cnt := final.ApplicationCounts
	if final.Stage != "STAGE_CLOSED" || cnt.Total != r.p.applicants || cnt.Eliminated+cnt.Decided != cnt.Total {
		return fmt.Errorf("selection %s after the appointment: stage %s, counts %+v; want closed with all %d eliminated or decided",
			r.p.id, final.Stage, cnt, r.p.applicants)
	}
	if r.p.check {
		return r.checkFinal(ctx)
	}
	return nil
}

func stageStep(stage string) string {
	switch stage {
	case "STAGE_ADMINISTRATIVE_SCREENING":
		return "screening"
	case "STAGE_COMPETENCY_TEST":
		return "competency"
	case "STAGE_INTERVIEW":
		return "interview"
	}
	return stage
}

// scoreOf is the score, in hundredths, of every component for the k-th candidate: strictly
// falling with k so that the ranking is known in advance and has no ties. From k = 3,000 on
// the final score falls under the pass mark of 65, from 3,500 on the competency-test score
// under its pass mark of 60.
func scoreOf(k int) float64 { return float64(9500-k) / 100 }

// screenedOut reports whether the committee rejects candidate k at the screening: one in ten.
func screenedOut(k int) bool { return k%10 == 9 }

// record records the stage's results for the applications in it, in batches of at most
// 1,000 (the most one command takes); at the interview three members score, whose mean is
// the candidate's score.
func (r *run) record(ctx context.Context, stage string, in []applicationJSON) error {
	const batch = 1000
	type scorer struct {
		token, member string
		offset        float64
	}
	scorers := []scorer{{r.secretary(), "", 0}}
	if stage == "STAGE_INTERVIEW" {
		scorers = []scorer{{r.chair(), committeeIDs[0], 1}, {r.secretary(), committeeIDs[1], 0}, {r.members[2], committeeIDs[2], -1}}
	}
	for _, s := range scorers {
		for from := 0; from < len(in); from += batch {
			var results []map[string]any
			for _, a := range in[from:min(from+batch, len(in))] {
				k, ok := r.index[a.Name]
				if !ok {
					return fmt.Errorf("selection %s lists %s at %s, which none of its candidates submitted", r.p.id, a.Name, stage)
				}
				results = append(results, resultEntry(stage, a.Name, k, s.offset))
			}
			body := map[string]any{"stage": stage, "results": results}
			if s.member != "" {
				body["memberId"] = s.member
			}
			var out struct {
				RecordedCount int `json:"recordedCount"`
			}
			if err := r.command(ctx, ":recordResults", s.token, "record", body, &out); err != nil {
				return err
			}
			if out.RecordedCount != len(results) {
				return fmt.Errorf("selection %s: %d results of %s recorded, want %d", r.p.id, out.RecordedCount, stage, len(results))
			}
		}
	}
	return nil
}

// resultEntry is the result of candidate k's application at a stage.
func resultEntry(stage, app string, k int, offset float64) map[string]any {
	s := scoreOf(k)
	switch stage {
	case "STAGE_ADMINISTRATIVE_SCREENING":
		if screenedOut(k) {
			return map[string]any{"application": app, "outcome": "OUTCOME_FAIL", "reason": "Berkas tidak lengkap / incomplete file"}
		}
		return map[string]any{"application": app, "outcome": "OUTCOME_PASS"}
	case "STAGE_COMPETENCY_TEST":
		category := "COMPETENCY_CATEGORY_MEETS"
		if s < 60 {
			category = "COMPETENCY_CATEGORY_DOES_NOT_MEET"
		}
		return map[string]any{"application": app, "outcome": "OUTCOME_NONE", "competencyCategory": category,
			"managerialScore": s, "socioCulturalScore": s,
			"scores": []map[string]any{
				{"component": "SCORE_COMPONENT_WRITTEN_TEST", "score": s},
				{"component": "SCORE_COMPONENT_COMPETENCY_TEST", "score": s},
				{"component": "SCORE_COMPONENT_PAPER", "score": s},
				{"component": "SCORE_COMPONENT_TRACK_RECORD", "score": s},
			}}
	}
	return map[string]any{"application": app, "outcome": "OUTCOME_NONE",
		"scores": []map[string]any{{"component": "SCORE_COMPONENT_INTERVIEW", "score": s + offset}}}
}

// expectedShortlist is the best three candidates that reach the decision with a final score
// of at least 65, in order: the first ones to apply, less those screened out.
func (r *run) expectedShortlist() []string {
	var out []string
	for k := 0; k < len(r.apps) && len(out) < 3; k++ {
		if !screenedOut(k) && scoreOf(k) >= 65 {
			out = append(out, r.apps[k])
		}
	}
	return out
}

// decideAndAppoint takes the committee's decision on the ranking the committee reads, then
// the appointment of the first once the decision's objection window has passed.
func (r *run) decideAndAppoint(ctx context.Context) error {
	top, err := r.c.listApplications(ctx, r.p.id, r.chair(), "state = APPLICATION_STATE_IN_PROGRESS", "final_score desc", 3)
	if err != nil {
		return fmt.Errorf("selection %s: reading the ranking: %w", r.p.id, err)
	}
	var names []string
	for _, a := range top[:min(3, len(top))] {
		if a.FinalScore >= 65 {
			names = append(names, a.Name)
		}
	}
	if want := r.expectedShortlist(); !slices.Equal(names, want) {
		return fmt.Errorf("selection %s: the committee reads the best three as %v, the scores given make them %v", r.p.id, names, want)
	}
	var ranked []map[string]any
	for i, name := range names {
		ranked = append(ranked, map[string]any{"application": name, "rank": i + 1,
			"reason": fmt.Sprintf("nilai akhir peringkat %d / final score rank %d", i+1, i+1)})
	}
	var pub published
	if err := r.command(ctx, ":decide", r.chair(), "decide", map[string]any{"ranked": ranked}, &pub); err != nil {
		return err
	}
	r.mark("decision")
	if len(names) == 0 {
		return fmt.Errorf("selection %s: nobody to appoint", r.p.id)
	}
	// The appointment is refused until the shortlist is final, at the end of the decision's
	// objection window.
	due := pub.Selection.wallOf(pub.PublishedResult.ObjectionDeadline)
	if limit := time.Now().Add(r.p.stageWait); due.After(limit) {
		due = limit
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("selection %s: waiting for the shortlist to be final: %w", r.p.id, ctx.Err())
	case <-time.After(time.Until(due)):
	}
	body := map[string]any{"application": names[0], "ppkDecreeRef": "800/123/KEP/2026",
		"oversightRecommendationRef": "R-77/KASN/2026", "reason": "peringkat pertama / rank 1"}
	if err := r.command(ctx, ":appoint", r.admin, "appoint", body, nil); err != nil {
		return err
	}
	r.mark("appointment")
	return nil
}

// checkFinal lists every application and checks that each ended where the scores put it:
// screened out, eliminated at the competency test, not selected, or ranked 1 to 3 (the first
// appointed), and that the decision's published result ranks everyone who reached it.
func (r *run) checkFinal(ctx context.Context) error {
	all, err := r.c.listApplications(ctx, r.p.id, r.chair(), "", "", 0)
	if err != nil {
		return fmt.Errorf("selection %s: listing the applications at the end: %w", r.p.id, err)
	}
	if len(all) != r.p.applicants {
		return fmt.Errorf("selection %s lists %d applications at the end, want %d", r.p.id, len(all), r.p.applicants)
	}
	short := r.expectedShortlist()
	var problems []string
	reached := 0
	for _, a := range all {
		k := r.index[a.Name]
		want := "APPLICATION_STATE_NOT_SELECTED"
		switch {
		case screenedOut(k) || scoreOf(k) < 60:
			want = "APPLICATION_STATE_ELIMINATED"
		case a.Name == short[0]:
			want = "APPLICATION_STATE_APPOINTED"
		}
		if want != "APPLICATION_STATE_ELIMINATED" {
			reached++
		}
		if a.State != want {
			problems = append(problems, fmt.Sprintf("%s (candidate %d) ended %s, want %s", a.Name, k, a.State, want))
		}
	}
	var res struct {
		Result stageResultJSON `json:"result"`
	}
	if err := r.c.call(ctx, opRead, http.MethodGet, r.path("/results/committee-decision"), "", nil, &res); err != nil {
		return fmt.Errorf("selection %s: reading the decision's result: %w", r.p.id, err)
	}
	if len(res.Result.Entries) != reached {
		problems = append(problems, fmt.Sprintf("the decision's result has %d entries, want the %d who reached it", len(res.Result.Entries), reached))
	}
	for i, name := range short {
		if i >= len(res.Result.Entries) || res.Result.Entries[i].Application != name || res.Result.Entries[i].Rank != i+1 {
			problems = append(problems, fmt.Sprintf("the decision's result does not rank %s %d", name, i+1))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("selection %s ended wrong in %d way(s); the first: %v", r.p.id, len(problems), problems[:min(5, len(problems))])
	}
	return nil
}
