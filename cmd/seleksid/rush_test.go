package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// The deadline rush: how many candidates apply, how many clients they share, and after how
// many accepted applications seleksid is killed.
const (
	rushApplications = 5000
	rushClients      = 64
	rushKillAfter    = rushApplications / 2
	// rushAnnouncementDays is the announcement of the rush's selection. Two working days
	// always span at least one whole day, so the time scale computed below stays in range
	// whatever the hour the test runs.
	rushAnnouncementDays = 2
)

// rushWindow is how long (wall time) the rush's announcement stays open: long enough for the
// rush and a restart on a slow machine, short enough to watch the window close within the
// test. PostgreSQL takes applications more slowly than SQLite (a selection's submissions
// wait on its row lock, and each commit on the disk), so its window is longer. On an idle
// 2-core machine the rush takes about 35 s on SQLite and 55 s on PostgreSQL; CI runs it
// beside the race tests and the other end-to-end tests, where it has taken 80 s and 145 s,
// and the windows leave room for that. SELEKSI_RUSH_WINDOW_SECONDS sets both on slower
// machines.
func rushWindow(t *testing.T, db string) time.Duration {
	t.Helper()
	if v := os.Getenv("SELEKSI_RUSH_WINDOW_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			t.Fatalf("SELEKSI_RUSH_WINDOW_SECONDS=%q: want whole seconds, at least 10", v)
		}
		return time.Duration(n) * time.Second
	}
	if db == "postgres" {
		return 240 * time.Second
	}
	return 150 * time.Second
}

// TestDeadlineRushWithCrash is the last announcement day under load, with a crash in the
// middle of it. seleksid runs on its embedded default as a separate process; 64 clients
// submit 5,000 applications through the REST gateway as candidates do, each with its own
// token and request ID, retrying with the same request ID (with backoff) on every error that
// is not a clear refusal. Once half are accepted, seleksid is killed with SIGKILL and started
// again on the same data directory and addresses. Then no application is lost or doubled:
// every client's application is in the store exactly once, as the API lists it and as the
// audit chain records it; the chain verifies; the window closes by itself on time and its
// snapshot (the published applicant list) holds all 5,000; the committee's commands work.
// The figures (error rate, retries, latencies, throughput, restart time) are reported, not
// asserted.
func TestDeadlineRushWithCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("the deadline rush takes a minute or two")
	}
	// Both stores at once: most of each run is waiting for the window to close, and the two
	// waits overlap.
	for _, db := range stackDatabases() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			rushWithCrash(t, db)
		})
	}
}

func rushWithCrash(t *testing.T, db stackDatabase) {
	began := time.Now()
	dataDir := t.TempDir()
	logDir := t.TempDir()
	committee := []string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"}
	body := selectionBody(committee)
	body["announcementWorkingDays"] = rushAnnouncementDays
	body["minApplicants"] = 1
	body["positionTitle"] = "Kepala Dinas Pekerjaan Umum"
	// No required documents: applications here are the rush of submissions alone (uploads
	// have a rush test of their own).
	body["requirements"].(map[string]any)["requiredDocuments"] = []map[string]any{}

	// The window closes at the end of its second working day; scale the day so that this is
	// about rushWindow from now.
	window := rushWindow(t, db.name)
	secondsPerDay := rushSecondsPerDay(t, body, time.Now(), window)

	args := []string{
		"-data-dir", dataDir,
		"-embedded-temporal-addr", "127.0.0.1:0",
		"-embedded-temporal-ui-addr", "",
		"-demo-seconds-per-day", strconv.FormatInt(secondsPerDay, 10),
		"-shutdown-timeout", "20s",
		// The clients stand for candidates on many networks behind one reverse proxy (this
		// test): each names its address in X-Forwarded-For, so the default rate limits per
		// address apply as they would in production, and none is turned off for the rush.
		"-trusted-proxies", "127.0.0.1/32",
	}
	if u := db.url(t); u != "" {
		args = append(args, "-database-url", u)
	}
	procs := []*seleksidProcess{}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range procs {
				t.Logf("seleksid run %d log (warnings and errors):\n%s", i+1, p.logTail(80))
			}
		}
	})
	first := startSeleksidProcess(t, filepath.Join(logDir, "seleksid-1.log"),
		append(slices.Clone(args), "-grpc-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")...)
	procs = append(procs, first)
	addrs, err := first.waitServing(3 * time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, first.logTail(40))
	}
	t.Logf("seleksid (pid %d) serving on %s after %s", first.cmd.Process.Pid, addrs.HTTP, time.Since(began).Round(time.Millisecond))
	// The restarted process takes the same addresses, as a restarted service would.
	restartArgs := append(slices.Clone(args), "-grpc-addr", addrs.GRPC, "-http-addr", addrs.HTTP)

	base := "http://" + addrs.HTTP
	e := &e2e{
		api: api{t: t, base: base, http: &http.Client{Timeout: 90 * time.Second}},
		tok: newTokens(t, dataDir),
		id:  "rush-" + randomHex(3),
	}
	admin := e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	var created struct{ Selection selectionJSON }
	e.must(http.MethodPost, "/v1/selections?requestId=rush-create&selectionId="+e.id, admin, body, &created)
	var opened selectionJSON
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if opened = e.getSelection(e.id); opened.StageCloseTime != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the announcement window never opened: %+v", opened)
		}
	}
	closesWall := rushClosesWall(t, opened, secondsPerDay)
	t.Logf("selection %s: one day lasts %d s; the window closes at %s (selection time), %s from now",
		e.id, secondsPerDay, opened.StageCloseTime, time.Until(closesWall).Round(time.Second))

	// --- The rush, with a crash in the middle. ---
	r := newRush(base, e.tok, e.id)
	killNow := make(chan struct{})
	var killOnce sync.Once
	r.onAccepted = func(n int64) {
		if n == rushKillAfter {
			killOnce.Do(func() { close(killNow) })
		}
	}
	rushDone := make(chan struct{})
	go func() {
		defer close(rushDone)
		r.run()
	}()

	var restart rushRestart
	select {
	case <-killNow:
	case <-rushDone:
		t.Fatalf("the rush ended before %d applications were accepted: %s", rushKillAfter, r.summary())
	}
	restart.killedAt = time.Now()
	restart.acceptedBefore = r.accepted.Load()
	first.kill()
	restart.dead = time.Now()
	second := startSeleksidProcess(t, filepath.Join(logDir, "seleksid-2.log"), restartArgs...)
	procs = append(procs, second)
	_, err = second.waitServing(3 * time.Minute)
	if err != nil && second.logContains("address already in use") {
		// While the port was free, another socket of this machine took it (an outgoing
		// connection's ephemeral port, rarely). That is no finding about seleksid: restart on
		// new ports, and let the clients follow as they would a changed DNS record.
		t.Logf("the old address was taken (%v); restarting on new ports", err)
		second = startSeleksidProcess(t, filepath.Join(logDir, "seleksid-2b.log"),
			append(slices.Clone(args), "-grpc-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")...)
		procs = append(procs, second)
		var moved servingAddrs
		if moved, err = second.waitServing(3 * time.Minute); err == nil {
			e.base = "http://" + moved.HTTP
			r.base.Store(&e.base)
		}
	}
	if err != nil {
		r.abort()
		<-rushDone
		t.Fatalf("restart on the same data directory: %v\n%s", err, second.logTail(40))
	}
	restart.serving = time.Now()
	t.Logf("killed seleksid (SIGKILL) after %d accepted applications; restarted (pid %d), serving again %s after the kill",
		restart.acceptedBefore, second.cmd.Process.Pid, restart.serving.Sub(restart.killedAt).Round(time.Millisecond))
	<-rushDone
	rushEnded := time.Now()
	restart.firstAcceptedAfter = r.firstAcceptedAfter(restart.dead)

	// Every client got its application accepted, each a different one.
	byName := map[string]int{}
	var problems []string
	for i, res := range r.results {
		switch {
		case res.name == "":
			problems = append(problems, fmt.Sprintf("candidate %d: not accepted: %s", i, res.refusal))
		case byName[res.name] != 0:
			problems = append(problems, fmt.Sprintf("candidates %d and %d were given the same application %s", byName[res.name]-1, i, res.name))
		default:
			byName[res.name] = i + 1
		}
	}
	if len(problems) > 0 {
		if rushEnded.After(closesWall) {
			t.Logf("the rush ended after the window closed; raise SELEKSI_RUSH_WINDOW_SECONDS on this machine")
		}
		t.Fatalf("the rush lost applications (%s); the first of %d problems:\n%s", r.summary(), len(problems),
			strings.Join(problems[:min(len(problems), shownErrors)], "\n"))
	}

	figures(t, db.name+": "+r.report(restart, rushEnded))

	// Zero lost, zero doubled: the store holds exactly the accepted applications, once each,
	// and the audit chain has exactly one submission per request ID.
	auditor := e.tok.mint(auth.RoleAuditor, "inspektorat-1")
	listed := e.listApplications(admin)
	r.checkListed(t, listed, "before the close")
	r.checkSubmitEvents(t, e.listAuditEvents(auditor, "action = SubmitApplication"))

	// The window closes by itself, on the durable timer set before the crash, and the
	// selection goes on to the screening with all of them.
	wait := time.Until(closesWall) + 2*time.Minute
	sel := e.waitStage(e.id, "STAGE_ADMINISTRATIVE_SCREENING", wait)
	if sel.ApplicationCounts.Total != rushApplications {
		t.Errorf("application counts at screening: %+v, want %d in all", sel.ApplicationCounts, rushApplications)
	}
	var announced struct{ Result stageResultJSON }
	e.must(http.MethodGet, e.sel()+"/results/announcement", "", nil, &announced)
	inList := map[string]int{}
	for _, en := range announced.Result.Entries {
		inList[en.Application]++
	}
	if len(announced.Result.Entries) != rushApplications || len(inList) != rushApplications {
		t.Errorf("the published applicant list (the close's snapshot) has %d entries, %d distinct; want %d",
			len(announced.Result.Entries), len(inList), rushApplications)
	}
	errs := limitedErrors{t: t}
	for i, res := range r.results {
		if inList[res.name] != 1 {
			errs.Errorf("candidate %d's application %s is in the close's snapshot %d times, want once", i, res.name, inList[res.name])
		}
	}
	errs.done()
	r.checkListed(t, e.listApplications(admin), "after the close")

	// The committee's commands go through the workflow after the crash as before.
	secretary := e.tok.mint(auth.RoleCommittee, "sekretaris", e.id)
	var recorded struct{ RecordedCount int }
	e.must(http.MethodPost, e.sel()+":recordResults", secretary, map[string]any{
		"requestId": "rush-screen-1", "stage": "STAGE_ADMINISTRATIVE_SCREENING",
		"results": []map[string]any{{"application": r.results[0].name, "outcome": "OUTCOME_PASS"}}}, &recorded)
	if recorded.RecordedCount != 1 {
		t.Errorf("recorded %d screening results, want 1", recorded.RecordedCount)
	}

	// The audit chain verifies, replayed through the workflow code and compared with the
	// store row by row.
	var rep verificationJSON
	e.must(http.MethodPost, e.sel()+":verify", auditor, map[string]any{"replay": true}, &rep)
	if !rep.Report.OK || len(rep.Report.Findings) > 0 {
		t.Errorf("verification after the rush: ok=%v, %d finding(s): %+v", rep.Report.OK, len(rep.Report.Findings), rep.Report.Findings)
	}
	t.Logf("verified %s audit events (replayed: %v)", rep.Report.EventsChecked, rep.Report.Replayed)

	if err := second.stop(30 * time.Second); err != nil {
		t.Errorf("stopping the restarted seleksid: %v", err)
	}
	t.Logf("%s: deadline rush test took %s", db.name, time.Since(began).Round(time.Second))
}

// rushSecondsPerDay is the time scale that makes the rush selection's announcement, opening
// at now, close about window later. It counts the window as the workflow will, on the shipped
// holiday lists plus the body's overrides as whole years (they only name years that are not
// shipped); the test then waits for the close the selection itself reports.
func rushSecondsPerDay(t *testing.T, body map[string]any, now time.Time, window time.Duration) int64 {
	t.Helper()
	var supplied []calendar.Year
	for _, o := range body["holidayOverrides"].([]map[string]any) {
		d := calendar.MustDate(o["date"].(string))
		i := slices.IndexFunc(supplied, func(y calendar.Year) bool { return y.Year == d.Year })
		if i < 0 {
			supplied = append(supplied, calendar.Year{Year: d.Year})
			i = len(supplied) - 1
		}
		supplied[i].Days = append(supplied[i].Days, calendar.Holiday{Date: d, Kind: calendar.NationalHoliday})
	}
	cal, err := calendar.Build(calendar.WIB, supplied)
	if err != nil {
		t.Fatalf("calendar: %v", err)
	}
	plan, err := workflows.PlanAnnouncementWindow(cal, workflows.Windows{AnnouncementDays: rushAnnouncementDays, ObjectionDays: 2}, now)
	if err != nil {
		t.Fatalf("counting the announcement window: %v", err)
	}
	days := plan.Closes.Sub(now).Hours() / 24
	return max(1, int64(math.Ceil(window.Seconds()/days)))
}

// rushClosesWall is the wall-clock instant at which the selection's announcement closes: its
// close in selection time, brought back to the wall clock by the time scale from the opening.
func rushClosesWall(t *testing.T, sel selectionJSON, secondsPerDay int64) time.Time {
	t.Helper()
	opens, err1 := time.Parse(time.RFC3339Nano, sel.StageOpenTime)
	closes, err2 := time.Parse(time.RFC3339Nano, sel.StageCloseTime)
	if err1 != nil || err2 != nil {
		t.Fatalf("window of %+v: %v %v", sel, err1, err2)
	}
	return opens.Add(time.Duration(float64(closes.Sub(opens)) * float64(secondsPerDay) / 86400))
}

// rush is the crowd of candidates: rushApplications of them, taken in turn by rushClients
// clients.
type rush struct {
	// base is the gateway's URL, which changes only if the restart cannot have the old port.
	base  atomic.Pointer[string]
	selID string
	http  *http.Client
	// tokens are the candidates' own bearer tokens, minted before the rush.
	tokens []string
	// onAccepted is called with the running count after each accepted application.
	onAccepted func(n int64)

	next, accepted, attempts, failed, retryAfters atomic.Int64
	aborted                                       atomic.Bool
	started                                       time.Time

	mu sync.Mutex
	// attemptLatency is every HTTP attempt's duration; appLatency is each application's from
	// its first attempt to its acceptance, retries and backoff included.
	attemptLatency, appLatency []time.Duration
	// acceptedAt is when each accepted answer arrived.
	acceptedAt []time.Time
	// errorKinds counts the failed attempts by what the client saw.
	errorKinds map[string]int
	results    []rushResult
}

// rushResult is one candidate's outcome.
type rushResult struct {
	name       string // the application accepted, or ""
	submitTime time.Time
	// earlier reports that the accepted answer named an application stored before the
	// attempt that got it: an earlier attempt's answer was lost (the crash) and the retry
	// with the same request ID returned it instead of storing a second one.
	earlier bool
	refusal string
	tries   int
}

func newRush(base string, tok tokens, selID string) *rush {
	toks := make([]string, rushApplications)
	for i := range toks {
		toks[i] = tok.mint(auth.RoleCandidate, rushSubject(i))
	}
	r := &rush{
		selID: selID, tokens: toks,
		http: &http.Client{
			Timeout:   60 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: rushClients, MaxConnsPerHost: rushClients},
		},
		onAccepted: func(int64) {},
		errorKinds: map[string]int{},
		results:    make([]rushResult, rushApplications),
	}
	r.base.Store(&base)
	return r
}

// rushSubject is candidate i's token subject.
func rushSubject(i int) string { return fmt.Sprintf("rush-kandidat-%04d", i) }

// rushRequestID is the request ID of candidate i's submission, the same on every attempt.
func rushRequestID(i int) string { return fmt.Sprintf("rush-%04d", i) }

// run lets the clients loose and returns when every candidate is accepted or refused.
func (r *rush) run() {
	r.started = time.Now()
	var wg sync.WaitGroup
	for range rushClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(r.next.Add(1)) - 1
				if i >= rushApplications || r.aborted.Load() {
					return
				}
				r.results[i] = r.submit(i)
			}
		}()
	}
	wg.Wait()
}

// abort makes the clients give up (the test is failing).
func (r *rush) abort() { r.aborted.Store(true) }

// rushClientAddr is candidate i's address: 250 networks of 20 candidates each, as behind
// offices' and carriers' NAT, each network well within the per-address limit on mutations.
func rushClientAddr(i int) string {
	n := i % 250
	return fmt.Sprintf("10.77.%d.%d", n/250+1, n%250+1)
}

// rushGiveUp bounds how long one candidate keeps retrying.
const rushGiveUp = 4 * time.Minute

// submit is one candidate applying: the same request ID on every attempt, retried with
// exponential backoff and jitter until accepted or clearly refused.
func (r *rush) submit(i int) rushResult {
	token := r.tokens[i]
	body, _ := json.Marshal(rushApplication(i))
	path := "/v1/selections/" + r.selID + "/applications?requestId=" + url.QueryEscape(rushRequestID(i))
	first := time.Now()
	res := rushResult{}
	for attempt := 1; ; attempt++ {
		res.tries = attempt
		req, _ := http.NewRequest(http.MethodPost, *r.base.Load()+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Forwarded-For", rushClientAddr(i))
		began := time.Now()
		resp, err := r.http.Do(req)
		var code int
		var answer []byte
		var retryAfter string
		if err == nil {
			code, retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
			answer, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		took := time.Since(began)
		r.attempts.Add(1)
		if err == nil && code == http.StatusOK {
			var got struct{ Application applicationJSON }
			var when struct {
				Application struct {
					SubmitTime time.Time `json:"submitTime"`
				} `json:"application"`
			}
			if json.Unmarshal(answer, &got) != nil || json.Unmarshal(answer, &when) != nil || got.Application.Name == "" {
				res.refusal = "200 with an answer that does not decode: " + string(answer)
				r.failed.Add(1)
				return res
			}
			res.name, res.submitTime = got.Application.Name, when.Application.SubmitTime
			// The server stamps a submission when its request arrives, on the same clock.
			res.earlier = attempt > 1 && res.submitTime.Before(began)
			now := time.Now()
			r.mu.Lock()
			r.attemptLatency = append(r.attemptLatency, took)
			r.appLatency = append(r.appLatency, now.Sub(first))
			r.acceptedAt = append(r.acceptedAt, now)
			r.mu.Unlock()
			r.onAccepted(r.accepted.Add(1))
			return res
		}
		kind := rushErrorKind(err, code)
		r.mu.Lock()
		r.attemptLatency = append(r.attemptLatency, took)
		r.errorKinds[kind]++
		r.mu.Unlock()
		retryable := err != nil || code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
		if !retryable {
			res.refusal = fmt.Sprintf("%d %s", code, strings.TrimSpace(string(answer)))
			r.failed.Add(1)
			return res
		}
		if time.Since(first) > rushGiveUp || r.aborted.Load() {
			res.refusal = fmt.Sprintf("gave up after %d attempts over %s; last: %s", attempt, time.Since(first).Round(time.Millisecond), kind)
			r.failed.Add(1)
			return res
		}
		time.Sleep(rushBackoff(attempt, retryAfter, &r.retryAfters))
	}
}

// rushBackoff is the wait before attempt+1: the server's Retry-After when it gives one,
// else exponential from 50 ms to 2 s with full jitter, so that 64 clients do not return in
// step after an outage.
func rushBackoff(attempt int, retryAfter string, honoured *atomic.Int64) time.Duration {
	if s, err := strconv.Atoi(retryAfter); err == nil && s >= 0 {
		honoured.Add(1)
		return time.Duration(s)*time.Second + rand.N(100*time.Millisecond)
	}
	ceiling := min(2*time.Second, 50*time.Millisecond<<min(attempt-1, 6))
	return ceiling/2 + rand.N(ceiling/2+1)
}

// rushErrorKind names what a failed attempt saw, for the report.
func rushErrorKind(err error, code int) string {
	if err == nil {
		return strconv.Itoa(code)
	}
	msg := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "EOF", "timeout", "broken pipe"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	return "transport error"
}

// rushApplication is candidate i's application: valid, with a NIP and e-mail of their own.
// The rush selection requires no documents (rushWithCrash): this test measures intake under
// a deadline rush and a crash; uploads are measured by a rush of their own.
func rushApplication(i int) map[string]any {
	return map[string]any{
		"candidate": map[string]any{
			"fullName": fmt.Sprintf("Kandidat Rush %04d, S.T.", i), "nip": fmt.Sprintf("1980010120050%05d", i),
			"email": fmt.Sprintf("rush%04d@contoh.go.id", i), "phone": fmt.Sprintf("+6281200%05d", i),
			"birthDate": fmt.Sprintf("19%02d-%02d-%02d", 70+i%15, i%12+1, i%28+1), "educationLevel": "EDUCATION_LEVEL_MASTER",
			"educationMajor": "Teknik Sipil", "yearsOfExperience": 10 + i%10, "yearsInAdministratorPost": 3 + i%4,
			"currentPost": "Sekretaris Dinas", "currentPostLevel": "POST_LEVEL_ADMINISTRATOR", "currentAgency": "Pemerintah Kota Contoh",
		},
		"statement": "Saya siap memimpin Dinas Pekerjaan Umum.",
	}
}

// firstAcceptedAfter is when the first answer accepted after t arrived (zero if none).
func (r *rush) firstAcceptedAfter(t time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first time.Time
	for _, at := range r.acceptedAt {
		if at.After(t) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first
}

func (r *rush) summary() string {
	return fmt.Sprintf("%d accepted, %d refused or given up, %d attempts", r.accepted.Load(), r.failed.Load(), r.attempts.Load())
}

// rushRestart is the crash and the restart, as the test saw them.
type rushRestart struct {
	acceptedBefore int64
	// killedAt is when SIGKILL was sent, dead when the process was gone, serving when the
	// new process served again.
	killedAt, dead, serving, firstAcceptedAfter time.Time
}

// report is the rush's figures in one line.
func (r *rush) report(rs rushRestart, ended time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	attempts := r.attempts.Load()
	failedAttempts := attempts - r.accepted.Load()
	earlier := 0
	for _, res := range r.results {
		if res.earlier {
			earlier++
		}
	}
	kinds := make([]string, 0, len(r.errorKinds))
	for k, n := range r.errorKinds {
		kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(kinds)
	elapsed := ended.Sub(r.started)
	return fmt.Sprintf("deadline rush: %d applications from %d clients in %s (%.0f accepted/s overall), SIGKILL after %d; "+
		"attempts %d, failed attempts %d (error rate %.2f%%: %s), retries %d, answers lost in the crash and recovered by retry %d; "+
		"attempt latency p50 %s p99 %s max %s; application latency (retries included) p50 %s p99 %s max %s; "+
		"restart: process gone %s after SIGKILL, serving again %s after it, first application accepted %s after it",
		r.accepted.Load(), rushClients, elapsed.Round(time.Millisecond), float64(r.accepted.Load())/elapsed.Seconds(), rs.acceptedBefore,
		attempts, failedAttempts, 100*float64(failedAttempts)/float64(attempts), strings.Join(kinds, ", "), attempts-rushApplications, earlier,
		percentile(r.attemptLatency, 50), percentile(r.attemptLatency, 99), percentile(r.attemptLatency, 100),
		percentile(r.appLatency, 50), percentile(r.appLatency, 99), percentile(r.appLatency, 100),
		rs.dead.Sub(rs.killedAt).Round(time.Millisecond), rs.serving.Sub(rs.killedAt).Round(time.Millisecond),
		rs.firstAcceptedAfter.Sub(rs.killedAt).Round(time.Millisecond))
}

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max(0, int(math.Ceil(float64(p)/100*float64(len(s))))-1)
	return s[i].Round(100 * time.Microsecond)
}

// checkListed checks that the applications the API lists are exactly those the clients were
// given, each once and owned by the candidate who submitted it.
func (r *rush) checkListed(t *testing.T, listed []applicationJSON, when string) {
	t.Helper()
	errs := limitedErrors{t: t}
	defer errs.done()
	owners := map[string]string{}
	for _, a := range listed {
		if prev, dup := owners[a.Name]; dup {
			errs.Errorf("%s: application %s listed twice (owners %s and %s)", when, a.Name, prev, a.Owner)
		}
		owners[a.Name] = a.Owner
	}
	if len(listed) != rushApplications {
		t.Errorf("%s: the API lists %d applications, want exactly %d", when, len(listed), rushApplications)
	}
	for i, res := range r.results {
		if owner, ok := owners[res.name]; !ok {
			errs.Errorf("%s: candidate %d's accepted application %s is not listed", when, i, res.name)
		} else if owner != rushSubject(i) {
			errs.Errorf("%s: application %s is owned by %s, want %s", when, res.name, owner, rushSubject(i))
		}
	}
}

// checkSubmitEvents checks that the audit chain records exactly one submission per request
// ID, for the application the client was given.
func (r *rush) checkSubmitEvents(t *testing.T, events []auditEventJSON) {
	t.Helper()
	errs := limitedErrors{t: t}
	defer errs.done()
	byRequest := map[string][]string{}
	for _, ev := range events {
		byRequest[ev.UpdateID] = append(byRequest[ev.UpdateID], ev.Target)
	}
	if len(events) != rushApplications {
		t.Errorf("the audit chain has %d submission events, want exactly %d", len(events), rushApplications)
	}
	for i, res := range r.results {
		if got := byRequest[rushRequestID(i)]; len(got) != 1 || got[0] != res.name {
			errs.Errorf("candidate %d: submission events %v, want one for %s", i, got, res.name)
		}
	}
}

// auditEventJSON is the part of an AuditEvent the rush reads.
type auditEventJSON struct {
	Action   string `json:"action"`
	Target   string `json:"target"`
	UpdateID string `json:"updateId"`
}

// listApplications reads every application of the selection, page by page, as the
// secretariat would.
func (e *e2e) listApplications(token string) []applicationJSON {
	e.t.Helper()
	var all []applicationJSON
	for page := ""; ; {
		var out struct {
			Applications  []applicationJSON `json:"applications"`
			NextPageToken string            `json:"nextPageToken"`
		}
		e.must(http.MethodGet, e.sel()+"/applications?pageSize=1000&pageToken="+url.QueryEscape(page), token, nil, &out)
		all = append(all, out.Applications...)
		if page = out.NextPageToken; page == "" {
			return all
		}
	}
}

// listAuditEvents reads the selection's audit events that match filter, page by page.
func (e *e2e) listAuditEvents(token, filter string) []auditEventJSON {
	e.t.Helper()
	var all []auditEventJSON
	for page := ""; ; {
		var out struct {
			AuditEvents   []auditEventJSON `json:"auditEvents"`
			NextPageToken string           `json:"nextPageToken"`
		}
		e.must(http.MethodGet, e.sel()+"/auditEvents?pageSize=1000&filter="+url.QueryEscape(filter)+"&pageToken="+url.QueryEscape(page),
			token, nil, &out)
		all = append(all, out.AuditEvents...)
		if page = out.NextPageToken; page == "" {
			return all
		}
	}
}

// limitedErrors reports the first few of many errors of one kind, then how many more there
// were, so that a rush that loses thousands of applications stays readable.
type limitedErrors struct {
	t *testing.T
	n int
}

const shownErrors = 10

func (l *limitedErrors) Errorf(format string, args ...any) {
	l.t.Helper()
	if l.n++; l.n <= shownErrors {
		l.t.Errorf(format, args...)
	}
}

func (l *limitedErrors) done() {
	l.t.Helper()
	if l.n > shownErrors {
		l.t.Errorf("... and %d more like these", l.n-shownErrors)
	}
}
