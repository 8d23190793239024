package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
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

	"github.com/minio/minio-go/v7"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/archive"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/clustertest"
	"github.com/bkpsdm/seleksi/internal/documents/blob/s3test"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/keys"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/temporalclient"
	"github.com/bkpsdm/seleksi/workflows"
)

// clusterNamespace is the Temporal namespace of the multi-process test.
const clusterNamespace = "seleksi"

// clusterBatch is how many applications the batch selection takes; its screening verdicts
// are one command, applied while a worker is killed.
const clusterBatch = 300

// TestMultiProcessCluster is the scaled-out deployment of issue 14 on one machine: Temporal
// as a process of its own (cmd/server at the pinned version) on two PostgreSQL databases of
// its own set up by Temporal's SQL tool; two seleksid workers (-mode worker) and two API
// replicas (-mode api) as separate processes on one fresh PostgreSQL schema, documents on
// versitygw (S3), all replicas with the same keys. The test is the load balancer: it sends
// requests to the two API replicas in turn (a partial upload stays on the replica that
// holds it, see replicas). Two selections run at once:
//   - the whole end-to-end scenario (runSelection: creation, six applications with their
//     uploads, screening, objections, scores, interviews, decision, appointment, audit with
//     verification by replay), every other request on the other replica;
//   - a batch selection of clusterBatch applications, whose screening verdicts go in one
//     command; the worker running that command's store activity is killed with SIGKILL in
//     the middle of it. The other worker finishes it: the verdicts are applied once, the
//     counts are exact, the audit chain verifies with replay.
//
// The figures (wall time, requests and commands, the kill point, verification) are reported
// in the log and in SELEKSI_TEST_FIGURES.
func TestMultiProcessCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("the multi-process cluster takes a few minutes")
	}
	began := time.Now()
	cl := clustertest.Start(t, clustertest.Options{
		Namespace: clusterNamespace, Retention: 720 * time.Hour, SearchAttributes: app.SearchAttributes(),
	})
	t.Logf("temporal server (separate process) on %s: %s", cl.FrontendAddr, cl.Took)
	dbURL := pgtest.SchemaURL(t)
	s3 := s3test.Start(t)
	bucket := s3.Bucket(t)

	// Every replica has the same keys, as mounted from Kubernetes Secrets: the key directory
	// (token, bundle, official-document and page-token keys; two token keys, the older of
	// which signed the test's tokens, so verification by kid across replicas is exercised)
	// and the payload keys every process encrypts Temporal's payloads with.
	keysDir, payloadKeys := clusterKeys(t)
	codec, err := payloadcodec.Open(payloadcodec.Options{Keys: payloadKeys}, "", time.Now)
	if err != nil {
		t.Fatal(err)
	}

	common := []string{
		"-temporal-address", cl.FrontendAddr,
		"-temporal-namespace", clusterNamespace,
		"-database-url", dbURL,
		"-demo-seconds-per-day", e2eSecondsPerDay(),
		"-shutdown-timeout", "20s",
		"-rate-limits=false",
		"-keys-dir", keysDir, "-payload-keys", payloadKeys,
		"-documents-store", "s3", "-s3-endpoint", s3.Endpoint, "-s3-bucket", bucket, "-s3-region", s3.Region, "-s3-tls=false",
	}
	env := []string{"SELEKSI_S3_ACCESS_KEY=" + s3.AccessKey, "SELEKSI_S3_SECRET_KEY=" + s3.SecretKey}
	logDir := t.TempDir()
	var procs []*clusterProcess
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range procs {
				t.Logf("%s log (warnings and errors):\n%s", p.name, p.logTail(60))
			}
		}
	})
	startProc := func(name, mode string) *clusterProcess {
		dataDir := t.TempDir()
		args := append(slices.Clone(common), "-mode", mode, "-data-dir", dataDir)
		if mode == "api" {
			args = append(args, "-grpc-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
		}
		p := &clusterProcess{name: name, seleksidProcess: startSeleksidProcessEnv(t, filepath.Join(logDir, name+".log"), env, args...)}
		procs = append(procs, p)
		return p
	}
	// The workers first: every process migrates the store at start, serialized by a lock.
	w1, w2 := startProc("worker-1", "worker"), startProc("worker-2", "worker")
	a1, a2 := startProc("api-1", "api"), startProc("api-2", "api")
	var hosts []string
	for _, a := range []*clusterProcess{a1, a2} {
		addrs, err := a.waitServing(3 * time.Minute)
		if err != nil {
			t.Fatalf("%s: %v\n%s", a.name, err, a.logTail(40))
		}
		hosts = append(hosts, addrs.HTTP)
	}
	for _, w := range []*clusterProcess{w1, w2} {
		if err := w.waitWorker(3 * time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s", w.name, err, w.logTail(40))
		}
	}
	t.Logf("two workers (pids %d, %d) and two API replicas (%s, %s) up %s after the start",
		w1.cmd.Process.Pid, w2.cmd.Process.Pid, hosts[0], hosts[1], time.Since(began).Round(100*time.Millisecond))

	// The test's own view of the deployment, as an operator's tools have it: a Temporal
	// client and the store, and the archiver run by hand (as seleksictl would).
	ctx := context.Background()
	tc, err := temporalclient.Dial(ctx, temporalclient.Options{HostPort: cl.FrontendAddr, Namespace: clusterNamespace,
		Retention: 720 * time.Hour, DataConverter: codec.DataConverter()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	archiver := archive.New(tc, st, slog.New(slog.DiscardHandler), archive.Options{Interval: time.Hour})

	lb := newReplicas(hosts)
	httpClient := &http.Client{Timeout: 90 * time.Second, Transport: lb}
	tok := clusterTokens(t, keysDir)
	sameKeySet(t, httpClient, hosts)
	kill := &killReport{}
	// Both selections at once: most of each is waiting for its stages to pass.
	t.Run("selections", func(t *testing.T) {
		t.Run("scenario", func(t *testing.T) {
			t.Parallel()
			e := &e2e{
				api:      api{t: t, base: "http://" + hosts[0], http: httpClient},
				tok:      tok,
				storeURL: dbURL,
				id:       "multi-" + randomHex(3),
				archive:  archiver.RunOnce,
			}
			runSelection(t, e)
			checkDocuments(t, e, s3.Client(t), bucket)
			webSessionAcrossReplicas(t, hosts, st, e)
		})
		t.Run("batch", func(t *testing.T) {
			t.Parallel()
			e := &e2e{
				api:      api{t: t, base: "http://" + hosts[0], http: httpClient},
				tok:      tok,
				storeURL: dbURL,
				id:       "batch-" + randomHex(3),
				archive:  archiver.RunOnce,
			}
			runBatch(t, e, tc, kill, []*clusterProcess{w1, w2})
		})
	})
	if t.Failed() {
		return
	}
	for _, p := range procs {
		if p == kill.victim {
			continue
		}
		if err := p.stop(30 * time.Second); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
	}
	// Temporal's own database holds the histories of both selections, every payload of them
	// encrypted with the shared key.
	nodes := historyNodes(t, "pgx", cl.DatabaseURL)
	payloads, _ := checkEncryptedNodes(t, nodes, codec, "multi-", "batch-")
	t.Logf("Temporal's PostgreSQL: %d history nodes, %d payloads, all encrypted with key %s", len(nodes), payloads, codec.ActiveKeyID())
	figures(t, fmt.Sprintf("2 API + 2 worker processes on a separate Temporal server (%s): %s wall; %d requests (%d commands) alternating over the replicas %v; %s",
		cl.Took, time.Since(began).Round(time.Second), lb.requests.Load(), lb.commands.Load(), lb.perReplica(), kill))
}

// clusterProcess is one seleksid process of the deployment.
type clusterProcess struct {
	name string
	*seleksidProcess
}

// waitWorker waits until the worker's Temporal worker has started.
func (p *clusterProcess) waitWorker(timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Millisecond) {
		if p.logContains(`"msg":"Started Worker"`) {
			return nil
		}
		select {
		case <-p.exited:
			p.waitMu.Lock()
			defer p.waitMu.Unlock()
			return fmt.Errorf("exited before its worker started: %v", p.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("worker not started within %s", timeout)
		}
	}
}

// replicas is the load balancer in front of the API replicas: each request goes to the next
// replica in turn, except the requests of a partial upload after its creation, which go to
// the replica that created it. tusd keeps a partial upload's bytes in the replica's upload
// directory and its lock in the replica's memory (internal/documents), so a deployment's
// load balancer must keep /v1/uploads/{id} on one replica (or the replicas must share the
// directory); the finished document is in the shared store and bucket and is served by any.
type replicas struct {
	hosts     []string
	transport http.RoundTripper
	next      atomic.Uint64
	requests  atomic.Int64
	// commands are the requests that change something (POST, PATCH, PUT, DELETE).
	commands atomic.Int64
	counts   []atomic.Int64

	mu sync.Mutex
	// uploads maps an upload's path to the replica that created it.
	uploads map[string]int
}

func newReplicas(hosts []string) *replicas {
	return &replicas{
		hosts:     hosts,
		transport: &http.Transport{MaxIdleConnsPerHost: 32},
		counts:    make([]atomic.Int64, len(hosts)),
		uploads:   map[string]int{},
	}
}

func (r *replicas) RoundTrip(req *http.Request) (*http.Response, error) {
	i := int(r.next.Add(1)-1) % len(r.hosts)
	r.mu.Lock()
	if held, ok := r.uploads[req.URL.Path]; ok {
		i = held
	}
	r.mu.Unlock()
	out := req.Clone(req.Context())
	out.URL.Host, out.Host = r.hosts[i], ""
	r.requests.Add(1)
	r.counts[i].Add(1)
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		r.commands.Add(1)
	}
	resp, err := r.transport.RoundTrip(out)
	if err == nil && req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, app.UploadsPath) {
		if loc, lerr := resp.Location(); lerr == nil {
			r.mu.Lock()
			r.uploads[loc.Path] = i
			r.mu.Unlock()
		}
	}
	return resp, err
}

// perReplica is how many requests each replica answered.
func (r *replicas) perReplica() []int64 {
	out := make([]int64, len(r.counts))
	for i := range r.counts {
		out[i] = r.counts[i].Load()
	}
	return out
}

// checkDocuments checks that every document the scenario's candidates uploaded (through
// either replica) is in the bucket and downloads whole through each replica.
func checkDocuments(t *testing.T, e *e2e, s3 *minio.Client, bucket string) {
	t.Helper()
	var names []string
	for i := 1; i < len(e.apps); i++ {
		var got struct {
			Application struct {
				Documents []struct {
					Document string `json:"document"`
				} `json:"documents"`
			} `json:"application"`
		}
		e.must(http.MethodGet, "/v1/"+e.apps[i], e.cands[i], nil, &got)
		for _, d := range got.Application.Documents {
			names = append(names, d.Document)
			for range 2 { // once through each replica
				r := e.do(http.MethodGet, "/v1/"+d.Document+":download", e.cands[i], nil)
				if r.code != http.StatusOK || !strings.HasPrefix(string(r.body), "%PDF") {
					t.Errorf("download %s as candidate %d: %d, %d bytes", d.Document, i, r.code, len(r.body))
				}
			}
		}
	}
	if len(names) != 2*(len(e.apps)-1) {
		t.Errorf("the applications name %d documents, want %d", len(names), 2*(len(e.apps)-1))
	}
	objects := 0
	for o := range s3.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list the bucket: %v", o.Err)
		}
		objects++
	}
	if objects < len(names) {
		t.Errorf("the bucket holds %d objects for %d documents", objects, len(names))
	}
	t.Logf("documents: %d uploaded through both replicas, each downloaded through both; %d objects in the bucket", len(names), objects)
}

// killReport says where the worker was killed.
type killReport struct {
	victim   *clusterProcess
	activity string
	attempt  int32
	after    time.Duration
	// finishedBy is the identity of the worker that completed the activity.
	finishedBy string
	// took is how long the killed command took, from its request to its answer.
	took     time.Duration
	verified string
}

func (k *killReport) String() string {
	if k.victim == nil {
		return "no worker killed"
	}
	return fmt.Sprintf("SIGKILL of %s (pid %d) %s into a %d-verdict command while it ran activity %s (attempt %d); finished by %s; the command answered after %s; %s",
		k.victim.name, k.victim.cmd.Process.Pid, k.after.Round(time.Millisecond), clusterBatch, k.activity, k.attempt, k.finishedBy, k.took.Round(time.Millisecond), k.verified)
}

// runBatch runs the batch selection: clusterBatch applications through both replicas, the
// close, and one screening command of every verdict, during which the worker running its
// activity is killed; then the close of the screening, and the checks.
func runBatch(t *testing.T, e *e2e, tc client.Client, kill *killReport, workers []*clusterProcess) {
	body := selectionBody([]string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"})
	body["positionTitle"] = "Kepala Dinas Pekerjaan Umum"
	body["minApplicants"] = 1
	// Long enough for the applications to be in before the close, on a busy machine.
	body["announcementWorkingDays"] = 10
	body["requirements"].(map[string]any)["requiredDocuments"] = []map[string]any{}
	admin := e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	secretary := e.tok.mint(auth.RoleCommittee, "sekretaris", e.id)
	chair := e.tok.mint(auth.RoleCommittee, "ketua", e.id)
	auditor := e.tok.mint(auth.RoleAuditor, "inspektorat-1")
	e.must(http.MethodPost, "/v1/selections?requestId=batch-create&selectionId="+e.id, admin, body, nil)
	// Applications are taken once the workflow has projected the announcement window.
	for deadline := time.Now().Add(30 * time.Second); e.getSelection(e.id).StageCloseTime == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the announcement window never opened: %+v", e.getSelection(e.id))
		}
	}

	// The applications, by 16 clients, each retried with its request ID on a server error.
	apps := make([]string, clusterBatch)
	refusals := make([]string, clusterBatch)
	var next atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= clusterBatch {
					return
				}
				apps[i], refusals[i] = submitBatch(e, i)
			}
		}()
	}
	wg.Wait()
	for i, a := range apps {
		if a == "" {
			t.Fatalf("batch application %d was not accepted: %s", i, refusals[i])
		}
	}
	t.Logf("%d applications through both replicas in %s", clusterBatch, time.Since(began).Round(time.Millisecond))

	sel := e.waitStage(e.id, "STAGE_ADMINISTRATIVE_SCREENING", 2*time.Minute)
	if sel.ApplicationCounts.Total != clusterBatch {
		t.Errorf("application counts at screening: %+v, want %d", sel.ApplicationCounts, clusterBatch)
	}

	// Every third fails the screening.
	var results []map[string]any
	for i, a := range apps {
		r := map[string]any{"application": a, "outcome": "OUTCOME_PASS"}
		if i%3 == 0 {
			r["outcome"], r["reason"] = "OUTCOME_FAIL", "Berkas tidak lengkap / incomplete file"
		}
		results = append(results, r)
	}
	screenBody := map[string]any{"requestId": "batch-screen", "stage": "STAGE_ADMINISTRATIVE_SCREENING", "results": results}
	type answer struct {
		r    reply
		took time.Duration
	}
	answered := make(chan answer, 1)
	sent := time.Now()
	go func() {
		// Not e.must: a Fatal belongs to the test's goroutine. The store may show the
		// screening a moment before the workflow has taken the close in (CI: WrongStage,
		// "still the announcement"), so a refusal for the stage is tried again, under a new
		// request ID, which the answer's checks below then use.
		for attempt := 1; ; attempt++ {
			screenBody["requestId"] = fmt.Sprintf("batch-screen-%d", attempt)
			r := e.do(http.MethodPost, e.sel()+":recordResults", secretary, screenBody)
			if r.code == http.StatusBadRequest && strings.Contains(string(r.body), "WrongStage") && time.Since(sent) < time.Minute {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			answered <- answer{r, time.Since(sent)}
			return
		}
	}()
	wfID := workflows.WorkflowID(e.id)
	// Watch the workflow's pending activities and kill the worker running the first one
	// started for this command.
	var ans *answer
	for kill.victim == nil && ans == nil {
		select {
		case a := <-answered:
			ans = &a
			continue
		default:
		}
		desc, err := tc.DescribeWorkflowExecution(context.Background(), wfID, "")
		if err != nil {
			t.Fatalf("describe %s: %v", wfID, err)
		}
		for _, pa := range desc.GetPendingActivities() {
			if pa.GetState() != enumspb.PENDING_ACTIVITY_STATE_STARTED {
				continue
			}
			for _, w := range workers {
				if strings.HasPrefix(pa.GetLastWorkerIdentity(), strconv.Itoa(w.cmd.Process.Pid)+"@") {
					kill.after = time.Since(sent)
					w.kill()
					kill.victim, kill.activity, kill.attempt = w, pa.GetActivityType().GetName(), pa.GetAttempt()
					break
				}
			}
			if kill.victim != nil {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ans == nil {
		select {
		case a := <-answered:
			ans = &a
		case <-time.After(2 * time.Minute):
			t.Fatalf("the screening command did not answer within 2 minutes of the kill")
		}
	}
	if kill.victim == nil {
		t.Fatalf("the screening command (%s) answered before any of its activities was seen running; nothing was killed", ans.r)
	}
	kill.took = ans.took
	r := ans.r
	var recorded struct{ RecordedCount int }
	switch {
	case r.code == http.StatusOK:
	case r.code >= 500 || r.code == http.StatusRequestTimeout:
		// The answer was lost with the worker; the client retries with the same request ID,
		// and the command is applied once.
		t.Logf("the screening command answered %s after the kill; retrying with its request ID", r)
		r = e.must(http.MethodPost, e.sel()+":recordResults", secretary, screenBody, nil)
	default:
		t.Fatalf("the screening command: %s", r)
	}
	if err := json.Unmarshal(r.body, &recorded); err != nil || recorded.RecordedCount != clusterBatch {
		t.Errorf("the screening command recorded %d verdicts (%v), want %d: %.300s", recorded.RecordedCount, err, clusterBatch, r.body)
	}
	// A retry after the crash answers as the first did.
	var again struct{ RecordedCount int }
	e.must(http.MethodPost, e.sel()+":recordResults", secretary, screenBody, &again)
	if again.RecordedCount != recorded.RecordedCount {
		t.Errorf("the screening command retried after the crash answered %d verdicts, the first answer %d", again.RecordedCount, recorded.RecordedCount)
	}
	kill.finishedBy = activityFinisher(t, tc, wfID, kill.activity)
	t.Logf("%s", kill)

	// The screening closes; its published result holds every verdict once.
	e.must(http.MethodPost, e.sel()+":advance", chair, map[string]any{"requestId": "batch-advance", "expectedStage": "STAGE_ADMINISTRATIVE_SCREENING"}, nil)
	var screened struct{ Result stageResultJSON }
	e.must(http.MethodGet, e.sel()+"/results/administrative-screening", "", nil, &screened)
	seen := map[string]int{}
	failed := 0
	for _, en := range screened.Result.Entries {
		seen[en.Application]++
		if en.Outcome == "OUTCOME_FAIL" {
			failed++
		}
	}
	wantFailed := (clusterBatch + 2) / 3
	if len(screened.Result.Entries) != clusterBatch || len(seen) != clusterBatch || failed != wantFailed {
		t.Errorf("the published screening: %d entries, %d applications, %d failed; want %d, %d, %d",
			len(screened.Result.Entries), len(seen), failed, clusterBatch, clusterBatch, wantFailed)
	}
	counts := e.getSelection(e.id).ApplicationCounts
	if counts.Total != clusterBatch || counts.Eliminated != wantFailed || counts.InProgress != clusterBatch-wantFailed {
		t.Errorf("application counts after the screening: %+v, want %d in all, %d eliminated, %d in progress",
			counts, clusterBatch, wantFailed, clusterBatch-wantFailed)
	}

	// The audit chain: one RecordResults event for the command, one submission per
	// application; it verifies, replayed through the workflow code.
	e.retried = []string{screenBody["requestId"].(string), "batch-create"}
	e.checkAppliedOnce()
	subs := e.listAuditEvents(auditor, "action = SubmitApplication")
	if len(subs) != clusterBatch {
		t.Errorf("%d submission events, want %d", len(subs), clusterBatch)
	}
	var rep verificationJSON
	e.must(http.MethodPost, e.sel()+":verify", auditor, map[string]any{"replay": true}, &rep)
	if !rep.Report.OK || len(rep.Report.Findings) > 0 || !rep.Report.Replayed {
		t.Errorf("verification after the kill: ok %v replayed %v, findings %+v", rep.Report.OK, rep.Report.Replayed, rep.Report.Findings)
	}
	kill.verified = fmt.Sprintf("verify with replay: ok=%v, %s events", rep.Report.OK, rep.Report.EventsChecked)
}

// submitBatch submits batch application i, retrying with its request ID while the answer
// is a server error or lost. It returns the application's name, or what refused it.
func submitBatch(e *e2e, i int) (string, string) {
	tok := e.tok.mint(auth.RoleCandidate, fmt.Sprintf("batch-kandidat-%04d", i))
	path := e.sel() + "/applications?requestId=" + url.QueryEscape(fmt.Sprintf("batch-%04d", i))
	var r reply
	for attempt := 0; attempt < 20; attempt++ {
		r = e.tryDo(http.MethodPost, path, tok, rushApplication(i))
		if r.code == http.StatusOK {
			var got struct{ Application applicationJSON }
			if json.Unmarshal(r.body, &got) == nil && got.Application.Name != "" {
				return got.Application.Name, ""
			}
		}
		if r.code != 0 && r.code < 500 {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	return "", r.String()
}

// tryDo is api.do without failing the test on a transport error (code 0), for goroutines.
func (a api) tryDo(method, path, token string, body any) reply {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(string(b)))
	if err != nil {
		return reply{method: method, path: path}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.http.Do(req)
	if err != nil {
		return reply{method: method, path: path, body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return reply{method: method, path: path, code: resp.StatusCode, body: out}
}

// activityFinisher reads the workflow's history for the last completed activity of the type
// and names the worker identity that completed it, and counts the activity's timeouts (the
// killed worker's attempt ends in one when the activity is scheduled anew rather than
// retried).
func activityFinisher(t *testing.T, tc client.Client, wfID, activity string) string {
	t.Helper()
	started := map[int64]string{}
	scheduled := map[int64]string{}
	last, timedOut := "", 0
	it := tc.GetWorkflowHistory(context.Background(), wfID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", wfID, err)
		}
		if s := ev.GetActivityTaskScheduledEventAttributes(); s != nil {
			scheduled[ev.GetEventId()] = s.GetActivityType().GetName()
		}
		if s := ev.GetActivityTaskStartedEventAttributes(); s != nil {
			started[ev.GetEventId()] = fmt.Sprintf("%s (attempt %d)", s.GetIdentity(), s.GetAttempt())
		}
		if c := ev.GetActivityTaskCompletedEventAttributes(); c != nil && scheduled[c.GetScheduledEventId()] == activity {
			last = started[c.GetStartedEventId()]
		}
		if to := ev.GetActivityTaskTimedOutEventAttributes(); to != nil && scheduled[to.GetScheduledEventId()] == activity {
			timedOut++
		}
	}
	return fmt.Sprintf("%s, after %d timed-out %s task(s) in the history", last, timedOut, activity)
}

// webSessionAcrossReplicas signs a candidate in on one replica and goes on with the session
// on the other: the session lives in the shared store and the CSRF token is checked against
// its cookie, so neither is tied to a replica. Signing out on the second replica ends the
// session on both.
func webSessionAcrossReplicas(t *testing.T, hosts []string, st *store.Store, e *e2e) {
	t.Helper()
	ctx := context.Background()
	const email, password = "kandidat.web@contoh.go.id", "Sandi-Yang-Panjang-2026!"
	if _, err := accounts.New(st, accounts.Options{}, slog.New(slog.DiscardHandler)).Seed(ctx, accounts.NewAccount{
		Role: auth.RoleCandidate, FullName: "Kandidat Web", Email: email, Lang: i18n.ID,
	}, password); err != nil {
		t.Fatalf("seed the candidate's account: %v", err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cookies are not kept per port, so the two replicas on 127.0.0.1 share them as two
	// replicas behind one host name do.
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(host, path string) (int, string, string) {
		t.Helper()
		resp, err := c.Get("http://" + host + path)
		if err != nil {
			t.Fatalf("GET %s%s: %v", host, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	post := func(host, path string, form url.Values) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+host+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// A browser names the page's origin: behind one host name, the replica's own.
		req.Header.Set("Origin", "http://"+host)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("POST %s%s: %v", host, path, err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.Header.Get("Location")
	}
	code, _, page := get(hosts[0], "/masuk")
	token := csrfToken(page)
	if code != http.StatusOK || token == "" {
		t.Fatalf("the sign-in form on %s: %d, CSRF token %q", hosts[0], code, token)
	}
	if code, loc := post(hosts[0], "/masuk", url.Values{"email": {email}, "password": {password}, "csrf_token": {token}}); code != http.StatusSeeOther || strings.Contains(loc, "/masuk") {
		t.Fatalf("signing in on %s: %d to %q", hosts[0], code, loc)
	}
	code, loc, page := get(hosts[1], "/lamaran")
	if code != http.StatusOK {
		t.Fatalf("the candidate's applications on the other replica %s, in the session begun on %s: %d to %q", hosts[1], hosts[0], code, loc)
	}
	// The form token of a page of the second replica, to sign out there.
	token = csrfToken(page)
	if code, loc := post(hosts[1], "/keluar", url.Values{"csrf_token": {token}}); code != http.StatusSeeOther {
		t.Errorf("signing out on %s: %d to %q", hosts[1], code, loc)
	}
	for _, h := range hosts {
		if code, loc, _ := get(h, "/lamaran"); code != http.StatusSeeOther || !strings.Contains(loc, "/masuk") {
			t.Errorf("after signing out, the applications page on %s: %d to %q, want a redirect to sign in", h, code, loc)
		}
	}
	t.Logf("web session: signed in on %s, continued and signed out on %s, ended on both", hosts[0], hosts[1])
}

// csrfToken is the CSRF token of a page's first form, or "".
func csrfToken(page string) string {
	_, rest, ok := strings.Cut(page, `name="csrf_token" value="`)
	if !ok {
		return ""
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return html.UnescapeString(tok)
}

// clusterKeys writes the key directory and the payload key file every process of the
// deployment is given, as an operator makes them (deploy/README.md, "Secrets and keys").
func clusterKeys(t *testing.T) (keysDir, payloadKeys string) {
	t.Helper()
	keysDir = t.TempDir()
	for _, name := range []string{"token-signing.2026-06.pem", "token-signing.2026-12.pem", "bundle-signing.2026-12.pem", "official-signing.2026-12.pem"} {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(keysDir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keysDir, "page-token.2026-12.key"), []byte(base64.StdEncoding.EncodeToString(secret)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	line, err := payloadcodec.NewKeyLine(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	payloadKeys = filepath.Join(t.TempDir(), "payload-aes256gcm.keys")
	if err := os.WriteFile(payloadKeys, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return keysDir, payloadKeys
}

// clusterTokens mints with the older of the directory's two token keys: the replicas sign
// with the newer one and must find this one by the kid in the token's header.
func clusterTokens(t *testing.T, keysDir string) tokens {
	t.Helper()
	d, err := keys.LoadDir(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	old, ok := d.Token.Lookup("2026-06")
	if !ok || d.Token.Active.ID == old.ID {
		t.Fatalf("the key directory's token keys: active %q, want 2026-12 active and 2026-06 present", d.Token.Active.ID)
	}
	key, err := auth.NewLocalKey(keys.SingleRing(old))
	if err != nil {
		t.Fatal(err)
	}
	return tokens{t: t, key: key}
}

// sameKeySet checks that both replicas publish the same verification keys.
func sameKeySet(t *testing.T, c *http.Client, hosts []string) {
	t.Helper()
	var sets []string
	for _, h := range hosts {
		resp, err := c.Get("http://" + h + app.JWKSPath)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s%s: %d %v", h, app.JWKSPath, resp.StatusCode, err)
		}
		pubs, err := keys.ParseJWKS(b)
		if err != nil || len(pubs) < 3 {
			t.Fatalf("%s publishes %d keys (%v), want both token keys and the bundle key", h, len(pubs), err)
		}
		sets = append(sets, string(b))
	}
	if sets[0] != sets[1] {
		t.Errorf("the replicas publish different key sets:\n%s\n%s", sets[0], sets[1])
	}
}
