package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/cli"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
)

// download is one bundle downloaded over REST into a file.
type download struct {
	resp *http.Response
	file string
	size int64
	// sha256 is the digest of the bytes received.
	sha256 [32]byte
}

// download streams GET path into file as any HTTP client would save an attachment, and
// checks the answer's shape: 200, application/zip as an attachment, and the Content-Digest
// trailer naming the bytes received.
func (a api) download(path, token, file string) download {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.base+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// A big bundle takes longer than the API client's deadline for one call.
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		a.t.Fatalf("GET %s = %d %s", path, resp.StatusCode, b)
	}
	f, err := os.Create(file)
	if err != nil {
		a.t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), resp.Body)
	if err != nil {
		a.t.Fatalf("GET %s: the download broke off after %d bytes: %v", path, n, err)
	}
	d := download{resp: resp, file: file, size: n}
	copy(d.sha256[:], h.Sum(nil))
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/zip" || !strings.HasPrefix(cd, "attachment; filename=") {
		a.t.Errorf("GET %s: Content-Type %q, Content-Disposition %q", path, ct, cd)
	}
	if got, want := resp.Trailer.Get("Content-Digest"), "sha-256=:"+base64.StdEncoding.EncodeToString(d.sha256[:])+":"; got != want {
		a.t.Errorf("GET %s: Content-Digest %q, the bytes received hash to %q", path, got, want)
	}
	return d
}

// exportBundle downloads a selection's bundle over REST and reads it.
func (a api) exportBundle(selection, token string) *audit.Bundle {
	a.t.Helper()
	d := a.download("/v1/selections/"+selection+":exportHistory", token, filepath.Join(a.t.TempDir(), selection+".bundle.zip"))
	data, err := os.ReadFile(d.file)
	if err != nil {
		a.t.Fatal(err)
	}
	b, err := audit.ReadBundle(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		a.t.Fatalf("the export of %s is not a bundle: %v", selection, err)
	}
	return b
}

// publishedKey is the bundle signing key the gateway publishes.
func (a api) publishedKey() ed25519.PublicKey {
	a.t.Helper()
	var key struct {
		PublicKeyPEM string `json:"publicKeyPem"`
	}
	a.must(http.MethodGet, "/v1/auditKeys/current", "", nil, &key)
	block, _ := pem.Decode([]byte(key.PublicKeyPEM))
	if block == nil {
		a.t.Fatalf("published key is not PEM: %q", key.PublicKeyPEM)
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	pub, ok := parsed.(ed25519.PublicKey)
	if err != nil || !ok {
		a.t.Fatalf("published key: %T %v", parsed, err)
	}
	return pub
}

// TestLargeExport exports a selection whose bundle is far above gRPC's 4 MiB message ceiling
// (which the unary export could not pass), over REST and with seleksictl, and checks both
// downloads: the signature with the published key, every part against the signed manifest,
// and the offline replay of every run through the workflow code.
//
// The selection is real and its inputs valid: 300 candidates apply through the API, and the
// committee records the screening verdicts, then corrects them again and again before
// publishing, each verdict with a reason of the full 2,000 characters the API allows, sent
// over gRPC as seleksictl sends a score sheet. Each correction goes into the history twice
// (the update and the record naming the values it replaces) and into the audit chain, the
// workflow continues as new every few corrections, and the archiver archives the closed runs,
// so the export reads many archived runs and the running one. The reasons are random letters
// so that the zip cannot deflate them away: the size is paid for with few corrections.
func TestLargeExport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a selection with a bundle over 50 MiB")
	}
	const (
		applicants  = 300
		corrections = 24
		minBundle   = 50 << 20
	)
	began := time.Now()
	dataDir := t.TempDir()
	cfg := e2eConfig(t, dataDir, "")
	// Long enough days that 300 applications fit in the three-day announcement.
	cfg.DemoSecondsPerDay = 8
	a := startLogged(t, cfg)
	t.Cleanup(func() { stop(t, a) })
	e := &e2e{
		api: api{t: t, base: "http://" + a.HTTPAddr(), http: &http.Client{Timeout: 90 * time.Second}},
		tok: newTokens(t, dataDir), storeURL: cfg.StoreURL(), id: "besar-" + randomHex(3), archive: a.ArchiveNow,
	}
	committee := []string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"}
	e.admin = e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	secretary := e.tok.mint(auth.RoleCommittee, "sekretaris", e.id)
	auditor := e.tok.mint(auth.RoleAuditor, "inspektorat")
	createPath := "/v1/selections?requestId=" + e.reqID("create") + "&selectionId=" + e.id
	for start := time.Now(); ; time.Sleep(250 * time.Millisecond) {
		r := e.do(http.MethodPost, createPath, e.admin, selectionBody(committee))
		if r.code == http.StatusOK {
			break
		}
		// A freshly started seleksid may refuse for a moment (see the end-to-end test).
		if r.code != http.StatusInternalServerError || time.Since(start) > 30*time.Second {
			t.Fatalf("%s", r)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); e.getSelection(e.id).StageCloseTime == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the announcement window never opened")
		}
	}

	// --- 300 applications, each by its candidate, four at a time. ---
	apps := make([]string, applicants)
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range jobs {
				body := applicationBody(1)
				cand := body["candidate"].(map[string]any)
				cand["fullName"], cand["nip"] = fmt.Sprintf("Kandidat Nomor %d", i), fmt.Sprintf("1980010120050%05d", i)
				cand["email"], cand["phone"] = fmt.Sprintf("kandidat%d@contoh.go.id", i), fmt.Sprintf("+6281200%05d", i)
				var got struct{ Application applicationJSON }
				token := e.tok.mint(auth.RoleCandidate, fmt.Sprintf("kandidat-%d", i))
				e.must(http.MethodPost, e.sel()+"/applications?requestId="+fmt.Sprintf("apply-%05d", i),
					token, e.withDocuments(body, token, e.id), &got)
				apps[i] = got.Application.Name
			}
		})
	}
	for i := range applicants {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	e.waitStage(e.id, "STAGE_ADMINISTRATIVE_SCREENING", 3*time.Minute)
	t.Logf("%d applications in, screening open after %s", applicants, time.Since(began).Round(time.Second))

	// --- The screening verdicts, then corrections, over gRPC as seleksictl sends them. ---
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	selections := seleksiv1.NewSelectionServiceClient(conn)
	rng := rand.New(rand.NewChaCha8([32]byte{42}))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ."
	text := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+secretary)
	sent := 0
	// Batches of 100: a batch of results is at most 256 KiB (the workflow keeps it in its
	// history several times over, under Temporal's 2 MB per task).
	const perBatch = 100
	for round := range corrections + 1 {
		for from := 0; from < len(apps); from += perBatch {
			req := &seleksiv1.RecordResultsRequest{
				Name: "selections/" + e.id, RequestId: fmt.Sprintf("screening-%03d-%04d", round, from), Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING,
			}
			if round > 0 {
				req.Correction, req.CorrectionReason = true, fmt.Sprintf("Koreksi ke-%d atas berita acara / correction %d", round, round)
			}
			for _, app := range apps[from:min(from+perBatch, len(apps))] {
				req.Results = append(req.Results, &seleksiv1.ApplicationResult{Application: app, Outcome: seleksiv1.Outcome_OUTCOME_PASS, Reason: text(2000)})
			}
			if _, err := selections.RecordResults(ctx, req); err != nil {
				t.Fatalf("record results, round %d, from %d: %v", round, from, err)
			}
		}
		sent += applicants * 2000
	}
	archived, err := e.archive(context.Background())
	if err != nil {
		t.Fatalf("archive: %v", err)
	}
	t.Logf("%d rounds of %d verdicts (%d MB of reasons) recorded, %d closed runs archived, after %s",
		corrections+1, applicants, sent>>20, archived, time.Since(began).Round(time.Second))
	if archived < 2 {
		t.Errorf("%d runs archived: the selection did not continue as new as expected", archived)
	}
	pub := e.publishedKey()

	// --- Over REST. ---
	dir := t.TempDir()
	rss := startPeakRSS(t)
	exportBegan := time.Now()
	rest := e.download(e.sel()+":exportHistory", auditor, filepath.Join(dir, "rest.bundle.zip"))
	t.Logf("REST: %d bytes (%.1f MiB) in %s; peak RSS of the test process (seleksid and its client) %s",
		rest.size, float64(rest.size)/(1<<20), time.Since(exportBegan).Round(time.Millisecond), rss())
	if rest.size < minBundle {
		t.Fatalf("the bundle is %d bytes, want over %d: the test no longer exercises a large export", rest.size, minBundle)
	}
	// The bundles carry the histories as Temporal holds them, encrypted: the auditor reads
	// them with the payload keys.
	payloadKeys := []audit.Option{audit.WithPayloadCodec(dataDirCodec(t, dataDir))}
	restManifest, restEvents := checkBundleFile(t, rest.file, pub, payloadKeys...)

	// The server's own verification reads the same evidence whole.
	rss = startPeakRSS(t)
	verifyBegan := time.Now()
	var rep verificationJSON
	e.must(http.MethodPost, e.sel()+":verify", auditor, map[string]any{"replay": false}, &rep)
	if !rep.Report.OK {
		t.Errorf("server-side verification: %d findings: %+v", len(rep.Report.Findings), rep.Report.Findings)
	}
	t.Logf("server-side verification of the same selection in %s; peak RSS %s", time.Since(verifyBegan).Round(time.Millisecond), rss())

	// --- With seleksictl, then its offline replay. ---
	keyFile := filepath.Join(dir, "key.pem")
	r := e.do(http.MethodGet, "/v1/auditKeys/current", "", nil)
	var key struct {
		PublicKeyPEM string `json:"publicKeyPem"`
	}
	if err := json.Unmarshal(r.body, &key); err != nil || os.WriteFile(keyFile, []byte(key.PublicKeyPEM), 0o600) != nil {
		t.Fatalf("key: %v", err)
	}
	ctlFile := filepath.Join(dir, "ctl.bundle.zip")
	rss = startPeakRSS(t)
	exportBegan = time.Now()
	code, stdout, stderr := seleksictl(a.GRPCAddr(), auditor, "audit", "export", e.id, "-O", ctlFile, "-o", "json")
	if code != 0 {
		t.Fatalf("seleksictl audit export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var printed struct {
		Bytes     int64 `json:"bytes"`
		OK        bool  `json:"ok"`
		Signature struct {
			Verified bool `json:"verified"`
		} `json:"signature"`
	}
	if err := json.Unmarshal([]byte(stdout), &printed); err != nil || !printed.OK || !printed.Signature.Verified || printed.Bytes < minBundle {
		t.Fatalf("seleksictl audit export printed %s (%v)", stdout, err)
	}
	t.Logf("seleksictl: %d bytes in %s; peak RSS %s", printed.Bytes, time.Since(exportBegan).Round(time.Millisecond), rss())
	ctlManifest, ctlEvents := checkBundleFile(t, ctlFile, pub, payloadKeys...)
	// Two exports of an idle selection hold the same runs; the audit chain may have grown in
	// between (the archiver's events), never changed.
	if hs, ctl := histories(restManifest), histories(ctlManifest); fmt.Sprint(hs) != fmt.Sprint(ctl) {
		t.Errorf("the REST and seleksictl exports hold different histories:\n%v\n%v", hs, ctl)
	}
	if len(ctlEvents) < len(restEvents) || fmt.Sprint(ctlEvents[len(restEvents)-1].Hash) != fmt.Sprint(restEvents[len(restEvents)-1].Hash) {
		t.Errorf("the seleksictl export's audit chain (%d events) does not continue the REST export's (%d)", len(ctlEvents), len(restEvents))
	}
	for _, ev := range ctlEvents[len(restEvents):] {
		t.Logf("audit event %d (%s %s) was added between the two exports", ev.Seq, ev.Action, ev.Target)
	}
	replayBegan := time.Now()
	code, stdout, stderr = seleksictl("", "", "audit", "replay", ctlFile, "--key", keyFile, "--payload-keys", payloadcodec.DefaultPath(dataDir), "-o", "json")
	var replayed struct {
		OK       bool  `json:"ok"`
		Runs     []any `json:"runs"`
		Findings []any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &replayed); code != 0 || err != nil || !replayed.OK {
		t.Errorf("seleksictl audit replay: exit %d (%v)\n%.2000s\n%s", code, err, stdout, stderr)
	}
	t.Logf("seleksictl audit replay: %d runs replayed, ok %v, %d findings, in %s", len(replayed.Runs), replayed.OK, len(replayed.Findings),
		time.Since(replayBegan).Round(time.Millisecond))
	t.Logf("whole test: %s", time.Since(began).Round(time.Second))
}

// checkBundleFile checks a downloaded bundle as an auditor would, without the server: the
// signature with the published key and the parts (the streaming check seleksictl uses), and
// the whole offline verification, replay included. It returns the manifest and the chain.
func checkBundleFile(t *testing.T, file string, pub ed25519.PublicKey, opts ...audit.Option) (*audit.Manifest, []audit.AuditEvent) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, fs, err := audit.CheckArchive(f, fi.Size(), pub)
	if err != nil || len(fs) > 0 {
		t.Fatalf("%s: %v, findings %v", file, err, fs)
	}
	b, err := audit.ReadBundle(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyBundle(context.Background(), b, pub, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("%s: %d findings, the first: %v", file, len(rep.Findings), rep.Findings[0])
	}
	return m, b.Events
}

// histories lists the history parts of a manifest.
func histories(m *audit.Manifest) []audit.PartInfo {
	var out []audit.PartInfo
	for _, p := range m.Parts {
		if p.MediaType == audit.MediaTypeHistory {
			out = append(out, p)
		}
	}
	return out
}

// seleksictl runs the command-line client in this process against the gRPC server at addr.
func seleksictl(addr, token string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{"SELEKSI_SERVER": addr, "SELEKSI_TOKEN": token}
	app := &cli.App{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }}
	code := app.Run(context.Background(), args)
	return code, stdout.String(), stderr.String()
}

// startPeakRSS resets the process's peak resident set size (Linux) and returns a function
// that reports the peak since, with the resident size at the reset: a measure for the
// report, not an assertion.
func startPeakRSS(t *testing.T) func() string {
	t.Helper()
	// What earlier steps left for the collector is returned first, so that the peak is the
	// step's own. Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return func() string { return "not measured (" + err.Error() + ")" }
	}
	before := procStatus("VmRSS")
	return func() string {
		return fmt.Sprintf("%s (resident %s before)", procStatus("VmHWM"), before)
	}
}

// procStatus reads one field of /proc/self/status, such as "VmHWM", in MiB.
func procStatus(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return strings.TrimSpace(v)
			}
			return fmt.Sprintf("%d MiB", kb>>10)
		}
	}
	return "?"
}
