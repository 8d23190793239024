package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/keys"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
	"github.com/bkpsdm/seleksi/internal/temporalserver"
	"github.com/bkpsdm/seleksi/workflows"
)

// privatePeople are people whose personal data is distinctive enough to be found anywhere:
// NIPs that are the candidates' and members' token subjects, names, e-mail addresses, phone
// numbers and birth dates no other fixture uses.
func privatePeople() (*people, []string) {
	cand := func(i int) string { return fmt.Sprintf("19830714200904100%d", i) }
	birth := func(i int) string {
		if i == 5 {
			return "1960-05-17" // over the age limit, as in the plain scenario
		}
		return fmt.Sprintf("1983-07-1%d", i)
	}
	name := func(i int) string { return fmt.Sprintf("Wibisono Zulkarnaen Prasetyokusumo %c", 'A'+i) }
	email := func(i int) string { return fmt.Sprintf("wzp.rahasia%d@privasi-uji.go.id", i) }
	phone := func(i int) string { return fmt.Sprintf("+6281377441%03d", i) }
	member := func(n int) string { return fmt.Sprintf("19690302199503100%d", n) }
	memberName := func(id string) string { return "Prof. Sastrodiharjo Wiryawan " + id[len(id)-1:] + " Rahasiawati" }
	committee := []string{member(1), member(2), member(3), member(4), member(5)}
	p := &people{
		admin: "197501012000031099", auditor: "197202022000032098",
		committee: committee, memberName: memberName, candidate: cand,
		application: func(i int) map[string]any {
			body := applicationBody(i)
			c := body["candidate"].(map[string]any)
			c["fullName"], c["nip"], c["email"], c["phone"], c["birthDate"] = name(i), cand(i), email(i), phone(i), birth(i)
			return body
		},
	}
	secrets := []string{p.admin, p.auditor}
	for i := 1; i <= 6; i++ {
		secrets = append(secrets, cand(i), name(i), email(i), phone(i), birth(i))
	}
	for _, m := range committee {
		secrets = append(secrets, m, memberName(m))
	}
	return p, secrets
}

// TestPersonalDataStaysOutOfTemporalAndLogs runs a whole selection (the end-to-end scenario,
// with its audit export and replayed verification) with people whose NIPs (their token
// subjects), names, e-mail addresses, phone numbers and birth dates are distinctive strings,
// keeping every log line seleksid writes, down to debug. Then none of those strings may
// appear in the log, in any workflow history (as Temporal serves it, payloads included), or
// anywhere in the bytes of Temporal's SQLite database and its WAL; and the data directory,
// its keys folder and the SQLite files are the owner's only.
func TestPersonalDataStaysOutOfTemporalAndLogs(t *testing.T) {
	dataDir := t.TempDir()
	cfg := e2eConfig(t, dataDir, "")
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.Start(context.Background(), cfg, logger, startEmbedded)
	if err != nil {
		t.Fatalf("start seleksid: %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			stop(t, a)
		}
	})
	who, secrets := privatePeople()
	e := &e2e{
		api:      api{t: t, base: "http://" + a.HTTPAddr(), http: &http.Client{Timeout: 90 * time.Second}},
		tok:      newTokens(t, dataDir),
		storeURL: cfg.StoreURL(),
		id:       "privasi-" + randomHex(3),
		archive:  a.ArchiveNow,
		people:   who,
	}
	began := time.Now()
	runSelection(t, e)
	t.Logf("whole selection in %s", time.Since(began).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}
	// The API still shows people as they are known: by their subjects.
	var app1 struct{ Application applicationJSON }
	e.must(http.MethodGet, "/v1/"+e.apps[1], e.cands[1], nil, &app1)
	if app1.Application.Owner != who.candidate(1) {
		t.Errorf("candidate 1 sees owner %q, want their subject", app1.Application.Owner)
	}

	// Every run of the selection's workflow, as Temporal serves it.
	// Decrypted with the data directory's payload keys: what the histories say must hold no
	// personal data either (TestPayloadsEncryptedInTemporal checks that Temporal holds them
	// encrypted).
	histories := workflowHistories(t, a, e.id, dataDirCodec(t, dataDir))
	if !strings.Contains(histories, e.id) || !strings.Contains(histories, strings.TrimPrefix(e.apps[1], "selections/"+e.id+"/applications/")) {
		t.Fatalf("the histories name neither the selection nor its applications: the scan below would see nothing")
	}
	db := filepath.Join(dataDir, temporalserver.DatabaseFile)
	files := map[string][]byte{}
	read := func(when string) {
		for _, p := range []string{db, db + "-wal", db + "-shm"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			files[filepath.Base(p)+" "+when] = b
		}
	}
	read("while running")
	checkPrivateModes(t, dataDir, cfg.StoreURL())
	stop(t, a)
	stopped = true
	// The shutdown checkpoints the WAL into the database file.
	read("after shutdown")
	if !bytes.Contains(files[temporalserver.DatabaseFile+" after shutdown"], []byte(e.id)) {
		t.Fatalf("temporal.db does not hold the selection's workflow ID: the scan below would see nothing")
	}

	mu.Lock()
	logText := logs.String()
	mu.Unlock()
	if !strings.Contains(logText, "notification") || !strings.Contains(logText, "temporal-sdk") {
		t.Errorf("the log lacks the notifications or the SDK's lines: it was not captured whole")
	}
	found := 0
	for _, s := range secrets {
		if strings.Contains(logText, s) {
			found++
			t.Errorf("the log holds %q: %s", s, lineWith(logText, s))
		}
		if strings.Contains(histories, s) {
			found++
			t.Errorf("a workflow history holds %q: %s", s, around(histories, s))
		}
		for name, b := range files {
			if i := bytes.Index(b, []byte(s)); i >= 0 {
				found++
				t.Errorf("%s holds %q at byte %d", name, s, i)
			}
		}
	}
	t.Logf("scanned %d personal values in %d bytes of log, %d bytes of history JSON and %d database files: %d found",
		len(secrets), len(logText), len(histories), len(files), found)
}

// dataDirCodec is the payload codec with the keys seleksid created in its data directory.
func dataDirCodec(t *testing.T, dataDir string) *payloadcodec.Codec {
	t.Helper()
	c, err := payloadcodec.Open(payloadcodec.Options{}, dataDir, time.Now)
	if err != nil {
		t.Fatalf("payload keys: %v", err)
	}
	return c
}

// workflowHistories returns every run of the selection's workflow as Temporal's JSON, its
// payloads decrypted with codec.
func workflowHistories(t *testing.T, a *app.App, selectionID string, codec *payloadcodec.Codec) string {
	t.Helper()
	ctx := context.Background()
	c := a.TemporalClient()
	wfID := workflows.WorkflowID(selectionID)
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: a.TemporalNamespace(), Query: fmt.Sprintf("WorkflowId = %q", wfID)})
	if err != nil {
		t.Fatalf("list runs: %v", err)
	}
	if len(resp.GetExecutions()) == 0 {
		t.Fatalf("no run of %s", wfID)
	}
	var out strings.Builder
	for _, ex := range resp.GetExecutions() {
		it := c.GetWorkflowHistory(ctx, wfID, ex.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", ex.GetExecution().GetRunId(), err)
			}
			if err := proxy.VisitPayloads(ctx, ev, proxy.VisitPayloadsOptions{
				Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
					return codec.Decode(ps)
				},
			}); err != nil {
				t.Fatalf("decrypt the history of %s: %v", ex.GetExecution().GetRunId(), err)
			}
			b, err := protojson.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
	}
	// Payloads are base64 in Temporal's JSON; their data is JSON text, so decode them to
	// search what they say.
	return out.String() + "\n" + decodedPayloads(out.String())
}

// decodedPayloads decodes every "data" field of the history JSON (a payload's bytes in
// base64) into text.
func decodedPayloads(history string) string {
	var out strings.Builder
	for rest := history; ; {
		i := strings.Index(rest, `"data":"`)
		if i < 0 {
			return out.String()
		}
		rest = rest[i+len(`"data":"`):]
		j := strings.IndexByte(rest, '"')
		if j < 0 {
			return out.String()
		}
		if b, err := base64.StdEncoding.DecodeString(rest[:j]); err == nil {
			out.Write(b)
			out.WriteByte('\n')
		}
		rest = rest[j:]
	}
}

// checkPrivateModes: the data directory and its keys folder are 0700, the SQLite files of the
// store and of Temporal 0600.
func checkPrivateModes(t *testing.T, dataDir, storeURL string) {
	t.Helper()
	store := strings.TrimPrefix(storeURL, "sqlite:")
	temporal := filepath.Join(dataDir, temporalserver.DatabaseFile)
	want := map[string]os.FileMode{dataDir: 0o700, filepath.Join(dataDir, keys.Dir): 0o700}
	for _, db := range []string{store, temporal} {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			want[db+suffix] = 0o600
		}
	}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
	}
}

// lineWith is the log line that holds s.
func lineWith(text, s string) string {
	i := strings.Index(text, s)
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		return text[start:]
	}
	return text[start : i+end]
}

// around is s with some of its surroundings, to show where it was found.
func around(text, s string) string {
	i := strings.Index(text, s)
	return text[max(0, i-200):min(len(text), i+len(s)+200)]
}
