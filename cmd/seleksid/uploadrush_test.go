package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
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
	"github.com/bkpsdm/seleksi/internal/documents/tusclient"
	"github.com/bkpsdm/seleksi/internal/store"
)

// The upload rush: the last day of an announcement, when every candidate uploads their
// documents at once (issue 11's test list).
const (
	uploadRushCandidates = 500
	uploadRushClients    = 32
	// uploadRushChunk is the tus PATCH size: a 1 MiB file goes in three chunks.
	uploadRushChunk = 512 << 10
	// uploadRushSide is the side of each upload's image: 512 × 512 RGBA, stored without
	// compression, is a PNG of 1 MiB and a little.
	uploadRushSide = 512
)

// uploadRushKinds are the selection's required documents: each candidate uploads one file
// of each.
var uploadRushKinds = []string{"ijazah", "lhkpn", "surat_sehat"}

// TestUploadRush: seleksid runs as a separate process on its embedded default; 500
// candidates upload their three required documents (1 MiB each) through the tus endpoint of
// the REST gateway, 32 clients at a time, each candidate from its own address behind a
// trusted proxy (so the rate limits apply) and with its own token. Then no file is lost,
// doubled or corrupted: every upload became its own document, whose digest the server
// computed equals the digest of what was sent; each one downloads back byte for byte; the
// store holds exactly 1,500 documents, one per candidate and kind, and document storage 1,500
// files, each holding content of its own name's digest. Throughput and the latency of each
// file (p50, p99) are reported, not asserted.
//
// Then the retention (2 s here): the selection is cancelled, and the sweeper erases every
// document: the files leave the data directory, the rows stay erased with their digests,
// a download is refused as erased, and the audit chain, with an erasure event per document,
// verifies.
func TestUploadRush(t *testing.T) {
	if testing.Short() {
		t.Skip("the upload rush takes a minute")
	}
	began := time.Now()
	dataDir := t.TempDir()
	proc := startSeleksidProcess(t, filepath.Join(t.TempDir(), "seleksid.log"),
		"-data-dir", dataDir,
		"-embedded-temporal-addr", "127.0.0.1:0", "-embedded-temporal-ui-addr", "",
		"-grpc-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0",
		"-shutdown-timeout", "20s",
		// Candidates on many networks behind one reverse proxy (this test), so the default
		// rate limits per address apply, as in rushWithCrash.
		"-trusted-proxies", "127.0.0.1/32",
		// About real time (a day lasts 86,399 s), in the mode that allows a retention of seconds.
		"-demo-seconds-per-day", "86399",
		"-document-retention", "2s", "-document-erasure-interval", "1s",
	)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seleksid log (warnings and errors):\n%s", proc.logTail(60))
		}
	})
	addrs, err := proc.waitServing(3 * time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, proc.logTail(40))
	}
	t.Logf("seleksid (pid %d) serving on %s after %s", proc.cmd.Process.Pid, addrs.HTTP, time.Since(began).Round(time.Millisecond))

	base := "http://" + addrs.HTTP
	e := &e2e{
		api: api{t: t, base: base, http: &http.Client{Timeout: 90 * time.Second}},
		tok: newTokens(t, dataDir),
		id:  "unggah-" + randomHex(3),
	}
	admin := e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	body := selectionBody([]string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"})
	var required []map[string]any
	for _, k := range uploadRushKinds {
		required = append(required, map[string]any{"id": k, "title": k})
	}
	body["requirements"].(map[string]any)["requiredDocuments"] = required
	var created struct{ Selection selectionJSON }
	e.must(http.MethodPost, "/v1/selections?requestId=upload-rush-create&selectionId="+e.id, admin, body, &created)
	for deadline := time.Now().Add(30 * time.Second); e.getSelection(e.id).StageCloseTime == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the announcement window never opened")
		}
	}

	// --- The rush. ---
	r := newUploadRush(base, e.tok, e.id)
	r.run()
	if len(r.failures) > 0 {
		t.Fatalf("%d of %d uploads failed; the first:\n%s", len(r.failures), uploadRushCandidates*len(uploadRushKinds),
			strings.Join(r.failures[:min(len(r.failures), shownErrors)], "\n"))
	}
	figures(t, r.report())

	// Every upload became its own document, described with the digest of what was sent.
	names := map[string]string{}
	errs := limitedErrors{t: t}
	for _, f := range r.files {
		switch {
		case f.document == "":
			errs.Errorf("candidate %d's %s: no document", f.candidate, f.kind)
		case names[f.document] != "":
			errs.Errorf("candidate %d's %s and %s became the same %s", f.candidate, f.kind, names[f.document], f.document)
		case f.described.SHA256 != f.sha256 || f.described.SizeBytes != f.size || f.described.MediaType != "image/png":
			errs.Errorf("candidate %d's %s (%s): described as %+v, sent %d bytes with SHA-256 %s", f.candidate, f.kind, f.document,
				f.described, f.size, f.sha256)
		}
		names[f.document] = fmt.Sprintf("candidate %d's %s", f.candidate, f.kind)
	}
	errs.done()
	if t.Failed() {
		t.FailNow()
	}

	// Each downloads back (as its owner, through the gateway) to the bytes sent.
	figures(t, r.downloadAll(t))

	// The store holds exactly these documents, one per candidate and kind; storage holds one
	// file per document, each under its content's digest.
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dataDir, "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	docs := listAllDocuments(t, st, e.id)
	if len(docs) != len(r.files) {
		t.Errorf("the store holds %d documents of the selection, want %d", len(docs), len(r.files))
	}
	perOwnerKind := map[string]int{}
	for _, d := range docs {
		perOwnerKind[d.Owner+"/"+d.Kind]++
		if _, ok := names["documents/"+d.ID]; !ok {
			t.Errorf("the store holds %s, which no upload was answered with", d.ID)
		}
	}
	for k, n := range perOwnerKind {
		if n != 1 {
			t.Errorf("%s has %d documents, want 1", k, n)
		}
	}
	if got := checkStoredFiles(t, filepath.Join(dataDir, "documents")); got != len(r.files) {
		t.Errorf("document storage holds %d files, want %d", got, len(r.files))
	}

	// --- The retention: cancel the selection; its documents are erased 2 s later. ---
	erasureBegan := time.Now()
	e.must(http.MethodPost, e.sel()+":cancel", admin, map[string]any{"requestId": "upload-rush-cancel", "reason": "Uji retensi dokumen"}, nil)
	e.waitStage(e.id, "STAGE_CANCELLED", time.Minute)
	cancelled := time.Now()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		left, err := st.ListDocuments(context.Background(), store.DocumentFilter{SelectionID: e.id},
			store.ListOptions{PageSize: 1, Filter: `state = "attached"`})
		if err == nil {
			var up store.Page[store.StoredDocument]
			up, err = st.ListDocuments(context.Background(), store.DocumentFilter{SelectionID: e.id},
				store.ListOptions{PageSize: 1, Filter: `state = "uploaded"`})
			if err == nil && left.TotalSize+up.TotalSize == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("documents still not erased 90 s after the cancellation (%v)", err)
		}
	}
	erased := time.Now()
	t.Logf("retention: the selection was cancelled %s after the request; its %d documents were erased %s after the cancellation (retention 2 s, sweeps every 1 s)",
		cancelled.Sub(erasureBegan).Round(time.Millisecond), len(r.files), erased.Sub(cancelled).Round(time.Millisecond))
	for _, d := range listAllDocuments(t, st, e.id) {
		if d.State != store.DocumentStateErased || d.EraseTime.IsZero() || d.FileName != "" || d.SHA256 == "" {
			t.Fatalf("after the erasure: %+v", d)
		}
	}
	if got := checkStoredFiles(t, filepath.Join(dataDir, "documents")); got != 0 {
		t.Errorf("document storage still holds %d files after the erasure", got)
	}
	// A download of an erased document is refused as such.
	f := r.files[0]
	got := e.doIn("en", http.MethodGet, "/v1/"+f.document+":download", r.tokens[f.candidate], nil)
	if got.code != http.StatusGone || !strings.Contains(got.err().Message, "erased") {
		t.Errorf("download of an erased document: %s", got)
	}
	// Each erasure is an audit event with the digest, and the chain verifies.
	auditor := e.tok.mint(auth.RoleAuditor, "inspektorat-1")
	events := e.listAuditEvents(auditor, "action = "+store.ActionDocumentErased)
	if len(events) != len(r.files) {
		t.Errorf("%d erasure events, want %d", len(events), len(r.files))
	}
	var rep verificationJSON
	e.must(http.MethodPost, e.sel()+":verify", auditor, map[string]any{}, &rep)
	if !rep.Report.OK || len(rep.Report.Findings) > 0 {
		t.Errorf("verification after the erasure: ok=%v, %d finding(s): %+v", rep.Report.OK, len(rep.Report.Findings), rep.Report.Findings)
	}
	if err := proc.stop(30 * time.Second); err != nil {
		t.Errorf("stopping seleksid: %v", err)
	}
	t.Logf("upload rush test took %s", time.Since(began).Round(time.Second))
}

// uploadRush is the crowd of candidates uploading.
type uploadRush struct {
	base, selID string
	http        *http.Client
	tokens      []string
	// pixels is the image every file starts from; each file stamps its own bytes into it.
	pixels []byte

	next, retried atomic.Int64
	mu            sync.Mutex
	files         []*rushFile
	failures      []string
	started       time.Time
	took          time.Duration
}

// rushFile is one candidate's upload of one kind.
type rushFile struct {
	candidate int
	kind      string
	size      int64
	sha256    string
	document  string
	described struct {
		Name      string `json:"name"`
		MediaType string `json:"mediaType"`
		SizeBytes int64  `json:"sizeBytes,string"`
		SHA256    string `json:"sha256"`
	}
	latency time.Duration
}

func newUploadRush(base string, tok tokens, selID string) *uploadRush {
	r := &uploadRush{base: base, selID: selID, tokens: make([]string, uploadRushCandidates),
		http: &http.Client{Timeout: 2 * time.Minute,
			Transport: &http.Transport{MaxIdleConnsPerHost: uploadRushClients, MaxConnsPerHost: uploadRushClients}},
		pixels: make([]byte, uploadRushSide*uploadRushSide*4)}
	for i := range r.tokens {
		r.tokens[i] = tok.mint(auth.RoleCandidate, fmt.Sprintf("unggah-kandidat-%04d", i))
	}
	rng := rand.New(rand.NewPCG(11, 2026))
	for i := 0; i < len(r.pixels); i += 8 {
		binary.LittleEndian.PutUint64(r.pixels[i:], rng.Uint64())
	}
	for i := range uploadRushCandidates {
		for _, k := range uploadRushKinds {
			r.files = append(r.files, &rushFile{candidate: i, kind: k})
		}
	}
	return r
}

// content is a file's bytes: a valid PNG of the shared random pixels with the file's own
// stamp (candidate, kind, and random bytes) in its first row, so that every file differs.
func (r *uploadRush) content(f *rushFile) []byte {
	img := &image.NRGBA{Pix: slices.Clone(r.pixels), Stride: uploadRushSide * 4, Rect: image.Rect(0, 0, uploadRushSide, uploadRushSide)}
	binary.LittleEndian.PutUint64(img.Pix[0:], uint64(f.candidate))
	copy(img.Pix[8:], f.kind)
	binary.LittleEndian.PutUint64(img.Pix[32:], rand.Uint64())
	var buf bytes.Buffer
	buf.Grow(len(r.pixels) + 64<<10)
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// forwardedFor sends every request from the candidate's own address, as the trusted proxy
// in front of seleksid would report it.
type forwardedFor struct {
	addr string
	next http.RoundTripper
}

func (f forwardedFor) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Forwarded-For", f.addr)
	return f.next.RoundTrip(req)
}

// countRetries counts the requests answered with a status the client retries (429, 5xx...)
// or failed at the connection, for the report.
type countRetries struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c countRetries) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusConflict ||
		resp.StatusCode == http.StatusLocked {
		c.n.Add(1)
	}
	return resp, err
}

// run lets the clients loose: each takes the next candidate and uploads their three files,
// one after the other.
func (r *uploadRush) run() {
	r.started = time.Now()
	var wg sync.WaitGroup
	for range uploadRushClients {
		wg.Go(func() {
			for {
				i := int(r.next.Add(1)) - 1
				if i >= uploadRushCandidates {
					return
				}
				c := &tusclient.Client{Token: r.tokens[i], ChunkSize: uploadRushChunk, Backoff: 200 * time.Millisecond, Retries: 20,
					HTTP: &http.Client{Timeout: r.http.Timeout, Transport: countRetries{&r.retried, forwardedFor{rushClientAddr(i), r.http.Transport}}}}
				for k := range uploadRushKinds {
					f := r.files[i*len(uploadRushKinds)+k]
					if err := r.upload(c, f); err != nil {
						r.mu.Lock()
						r.failures = append(r.failures, fmt.Sprintf("candidate %d's %s: %v", f.candidate, f.kind, err))
						r.mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	r.took = time.Since(r.started)
}

func (r *uploadRush) upload(c *tusclient.Client, f *rushFile) error {
	data := r.content(f)
	sum := sha256.Sum256(data)
	f.size, f.sha256 = int64(len(data)), hex.EncodeToString(sum[:])
	ctx := context.Background()
	began := time.Now()
	u, err := c.Create(ctx, r.base+"/v1/uploads/", f.size, map[string]string{"selection": "selections/" + r.selID, "kind": f.kind,
		"filename": f.kind + ".png"})
	if err != nil {
		return err
	}
	done, err := c.Send(ctx, u, bytes.NewReader(data), f.size, nil)
	if err != nil {
		return err
	}
	f.latency = time.Since(began)
	f.document = done.Document
	if err := json.Unmarshal(done.Body, &f.described); err != nil {
		return fmt.Errorf("the last chunk's answer %q: %w", done.Body, err)
	}
	return nil
}

func (r *uploadRush) report() string {
	var bytesSent int64
	lat := make([]time.Duration, 0, len(r.files))
	for _, f := range r.files {
		bytesSent += f.size
		lat = append(lat, f.latency)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	mib := float64(bytesSent) / (1 << 20)
	return fmt.Sprintf("upload rush: %d candidates x %d files = %d files, %.1f MiB in %s with %d clients (chunks of %d KiB): "+
		"%.1f MiB/s, %.1f files/s; per file p50 %s, p90 %s, p99 %s, max %s; %d requests retried, %d uploads failed",
		uploadRushCandidates, len(uploadRushKinds), len(r.files), mib, r.took.Round(time.Millisecond), uploadRushClients, uploadRushChunk>>10,
		mib/r.took.Seconds(), float64(len(r.files))/r.took.Seconds(), pct(0.50).Round(time.Millisecond), pct(0.90).Round(time.Millisecond),
		pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), r.retried.Load(), len(r.failures))
}

// downloadAll downloads every document as its owner, 32 at a time, checks each against the
// digest of what was sent, and reports the throughput.
func (r *uploadRush) downloadAll(t *testing.T) string {
	t.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	var problems []string
	started := time.Now()
	var total atomic.Int64
	var wg sync.WaitGroup
	for range uploadRushClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(r.files) {
					return
				}
				f := r.files[i]
				if err := r.download(f, &total); err != nil {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("candidate %d's %s (%s): %v", f.candidate, f.kind, f.document, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(started)
	if len(problems) > 0 {
		t.Fatalf("%d of %d downloads differ from what was sent; the first:\n%s", len(problems), len(r.files),
			strings.Join(problems[:min(len(problems), shownErrors)], "\n"))
	}
	mib := float64(total.Load()) / (1 << 20)
	return fmt.Sprintf("downloads: %d documents, %.1f MiB in %s, %.1f MiB/s, every one identical to what was sent",
		len(r.files), mib, took.Round(time.Millisecond), mib/took.Seconds())
}

func (r *uploadRush) download(f *rushFile, total *atomic.Int64) error {
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequest(http.MethodGet, r.base+"/v1/"+f.document+":download", nil)
		req.Header.Set("Authorization", "Bearer "+r.tokens[f.candidate])
		req.Header.Set("X-Forwarded-For", rushClientAddr(f.candidate))
		resp, err := r.http.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 20 {
			resp.Body.Close()
			retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(retry, 1)) * time.Second)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		total.Add(n)
		switch got := hex.EncodeToString(h.Sum(nil)); {
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		case n != f.size || got != f.sha256:
			return fmt.Errorf("downloaded %d bytes with SHA-256 %s, sent %d with %s", n, got, f.size, f.sha256)
		case resp.Header.Get("ETag") != strconv.Quote(f.sha256):
			return fmt.Errorf("ETag %s", resp.Header.Get("ETag"))
		}
		return nil
	}
}

// listAllDocuments reads a selection's documents from the store itself.
func listAllDocuments(t *testing.T, st *store.Store, selID string) []store.StoredDocument {
	t.Helper()
	var out []store.StoredDocument
	token := ""
	for {
		page, err := st.ListDocuments(context.Background(), store.DocumentFilter{SelectionID: selID},
			store.ListOptions{PageSize: store.MaxPageSize, PageToken: token})
		if err != nil {
			t.Fatalf("list documents: %v", err)
		}
		out = append(out, page.Items...)
		if token = page.NextPageToken; token == "" {
			return out
		}
	}
}

// checkStoredFiles counts the files of filesystem document storage (content-addressed:
// sha256/xx/<digest>) and checks that each holds content of its name's digest.
func checkStoredFiles(t *testing.T, root string) int {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "sha256", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != filepath.Base(p) {
			t.Errorf("stored file %s holds content with SHA-256 %s", p, got)
		}
	}
	return len(paths)
}
