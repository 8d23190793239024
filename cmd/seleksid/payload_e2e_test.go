package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
	"github.com/bkpsdm/seleksi/internal/temporalserver"
)

// TestPayloadsEncryptedInTemporal runs the start of a selection with people whose NIPs,
// names and e-mail addresses are distinctive (the committee named at creation, candidates
// applying with their data) up to the administrative screening, which the workflow reaches
// through its activities (the announcement's snapshot of the applications, the stage's
// records). Then it opens Temporal's SQLite database read-only, as someone holding a copy
// of it would, and finds every payload of every history node encrypted with the data
// directory's key, none of the personal strings anywhere in the database's bytes, and the
// payloads decrypting, with the key, to the selection's data. Last, the codec endpoint the
// Temporal Web UI decodes through refuses anonymous, candidate and committee callers,
// decodes for an auditor, and encodes only for the secretariat.
func TestPayloadsEncryptedInTemporal(t *testing.T) {
	dataDir := t.TempDir()
	cfg := e2eConfig(t, dataDir, "")
	const uiOrigin = "http://127.0.0.1:8233"
	cfg.PayloadCodec.CORSOrigins = []string{uiOrigin}
	a := startLogged(t, cfg)
	t.Cleanup(func() { stop(t, a) })
	who, secrets := privatePeople()
	e := &e2e{
		api: api{t: t, base: "http://" + a.HTTPAddr(), http: &http.Client{Timeout: 90 * time.Second}},
		tok: newTokens(t, dataDir), storeURL: cfg.StoreURL(), id: "sandi-" + randomHex(3), archive: a.ArchiveNow, people: who,
	}
	admin := e.tok.mint(auth.RoleAdmin, who.admin)
	e.must(http.MethodPost, "/v1/selections?requestId="+e.reqID("create")+"&selectionId="+e.id, admin, who.selection(), nil)
	for deadline := time.Now().Add(10 * time.Second); e.getSelection(e.id).StageCloseTime == ""; {
		if time.Now().After(deadline) {
			t.Fatal("the announcement window never opened")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var apps []string
	// Three, the selection's minimum: the announcement closes without an extension.
	for i := 1; i <= 3; i++ {
		cand := e.tok.mint(auth.RoleCandidate, who.candidate(i))
		var got struct{ Application applicationJSON }
		e.must(http.MethodPost, e.sel()+"/applications?requestId="+e.reqID(fmt.Sprintf("apply%d", i)), cand,
			e.withDocuments(who.application(i), cand, e.id), &got)
		apps = append(apps, strings.TrimPrefix(got.Application.Name, "selections/"+e.id+"/applications/"))
	}
	e.waitStage(e.id, "STAGE_ADMINISTRATIVE_SCREENING", 90*time.Second)

	codec, err := payloadcodec.Open(payloadcodec.Options{}, dataDir, time.Now)
	if err != nil {
		t.Fatalf("the data directory's payload keys: %v", err)
	}
	db := filepath.Join(dataDir, temporalserver.DatabaseFile)
	blobs := historyNodes(t, "sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(10000)")
	payloads, decrypted := checkEncryptedNodes(t, blobs, codec, e.id)
	var decoded bytes.Buffer
	for _, b := range decrypted {
		decoded.Write(b)
		decoded.WriteByte('\n')
	}
	decodedBytes := decoded.Len() - len(decrypted)
	if payloads < 5 {
		t.Fatalf("%d payloads in %d history nodes: the workflow did not run, the checks above saw nothing", payloads, len(blobs))
	}
	// What the ciphertext hides is the selection's real data: the workflow's input names the
	// selection, the announcement's snapshot its applications.
	for _, want := range append([]string{e.id}, apps...) {
		if !bytes.Contains(decoded.Bytes(), []byte(want)) {
			t.Errorf("the decrypted payloads do not name %s", want)
		}
	}
	// The whole database, its WAL included, holds no personal value in any form.
	for _, name := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(name)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if i := bytes.Index(b, []byte(s)); i >= 0 {
				t.Errorf("%s holds %q at byte %d", filepath.Base(name), s, i)
			}
		}
	}
	// Neither do the decrypted payloads: Temporal gets opaque IDs (personal data stays in the
	// store), and encryption is the second line.
	for _, s := range secrets {
		if bytes.Contains(decoded.Bytes(), []byte(s)) {
			t.Errorf("a decrypted payload holds %q", s)
		}
	}
	t.Logf("%d history nodes, %d payloads all encrypted with key %s (%d bytes once decrypted); %d personal values found nowhere",
		len(blobs), payloads, codec.ActiveKeyID(), decodedBytes, len(secrets))

	checkCodecEndpoint(t, a, e, who, codec, uiOrigin)
}

// checkEncryptedNodes fails the test for any payload of the history nodes that is not
// encrypted with the codec's active key, or that the codec cannot decrypt; it returns how
// many payloads there were and their data once decrypted. No encrypted payload may hold any
// of hidden in clear.
func checkEncryptedNodes(t *testing.T, blobs [][]byte, codec *payloadcodec.Codec, hidden ...string) (payloads int, decrypted [][]byte) {
	t.Helper()
	for _, b := range blobs {
		h := &historypb.History{}
		if err := proto.Unmarshal(b, h); err != nil {
			t.Fatalf("a history node does not hold a history: %v", err)
		}
		err := proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
			// Search attributes are for listing workflows; the SDK never passes them through
			// the codec, and they carry codes only (TestPersonalDataStaysOutOfTemporalAndLogs).
			SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				for _, p := range ps {
					payloads++
					if !payloadcodec.Encrypted(p) || string(p.GetMetadata()[payloadcodec.MetadataKeyID]) != codec.ActiveKeyID() {
						t.Errorf("a payload in Temporal's database is not encrypted with key %s: metadata %q, %d bytes",
							codec.ActiveKeyID(), p.GetMetadata(), len(p.GetData()))
					}
					for _, h := range hidden {
						if bytes.Contains(p.GetData(), []byte(h)) {
							t.Errorf("an encrypted payload holds %q in clear", h)
						}
					}
				}
				clear, err := codec.Decode(ps)
				if err != nil {
					return nil, err
				}
				for _, p := range clear {
					decrypted = append(decrypted, p.GetData())
				}
				return ps, nil
			},
		})
		if err != nil {
			t.Fatalf("decrypting a history node's payloads: %v", err)
		}
	}
	return payloads, decrypted
}

// historyNodes reads every history node's events blob from Temporal's database (SQLite or
// PostgreSQL, by driver and data source), on a connection of its own while the server runs.
func historyNodes(t *testing.T, driver, dsn string) [][]byte {
	t.Helper()
	conn, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open Temporal's database: %v", err)
	}
	defer conn.Close()
	rows, err := conn.Query("SELECT data, data_encoding FROM history_node")
	if err != nil {
		t.Fatalf("read history_node: %v", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var data []byte
		var encoding string
		if err := rows.Scan(&data, &encoding); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(encoding, "proto3") {
			t.Fatalf("a history node encoded as %q", encoding)
		}
		out = append(out, data)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkCodecEndpoint calls /codec/decode and /codec/encode as the Web UI does.
func checkCodecEndpoint(t *testing.T, a *app.App, e *e2e, who *people, codec *payloadcodec.Codec, uiOrigin string) {
	t.Helper()
	clear, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"selectionId": e.id})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := codec.Encode([]*commonpb.Payload{clear})
	if err != nil {
		t.Fatal(err)
	}
	body := func(p *commonpb.Payload) []byte {
		b, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	call := func(method, op, token string, b []byte) (int, []byte, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+a.HTTPAddr()+app.CodecPath+op, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", uiOrigin)
		req.Header.Set("X-Namespace", a.TemporalNamespace())
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out, resp.Header
	}
	auditor := e.tok.mint(auth.RoleAuditor, who.auditor)
	admin := e.tok.mint(auth.RoleAdmin, who.admin)
	tests := []struct {
		name, op, token string
		want            int
	}{
		{"anonymous decode", "decode", "", http.StatusUnauthorized},
		{"forged token", "decode", "bukan.token.sah", http.StatusUnauthorized},
		{"candidate decode", "decode", e.tok.mint(auth.RoleCandidate, who.candidate(1)), http.StatusForbidden},
		{"committee decode", "decode", e.tok.mint(auth.RoleCommittee, who.committee[0], e.id), http.StatusForbidden},
		{"auditor encode", "encode", auditor, http.StatusForbidden},
		{"auditor decode", "decode", auditor, http.StatusOK},
		{"secretariat decode", "decode", admin, http.StatusOK},
		{"secretariat encode", "encode", admin, http.StatusOK},
		{"unknown operation", "rotate", admin, http.StatusNotFound},
	}
	for _, tc := range tests {
		in := sealed[0]
		if tc.op == "encode" {
			in = clear
		}
		code, out, _ := call(http.MethodPost, tc.op, tc.token, body(in))
		if code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, out, tc.want)
			continue
		}
		if code != http.StatusOK {
			if bytes.Contains(out, []byte(e.id)) {
				t.Errorf("%s: the refusal shows the payload: %s", tc.name, out)
			}
			continue
		}
		var got commonpb.Payloads
		if err := protojson.Unmarshal(out, &got); err != nil || len(got.GetPayloads()) != 1 {
			t.Fatalf("%s: %s (%v)", tc.name, out, err)
		}
		p := got.GetPayloads()[0]
		switch tc.op {
		case "decode":
			if !proto.Equal(p, clear) {
				t.Errorf("%s: decoded %v, want %v", tc.name, p, clear)
			}
		case "encode":
			if !payloadcodec.Encrypted(p) {
				t.Errorf("%s: encoded %v", tc.name, p.GetMetadata())
			} else if back, err := codec.Decode([]*commonpb.Payload{p}); err != nil || !proto.Equal(back[0], clear) {
				t.Errorf("%s: the encoded payload decodes to %v (%v)", tc.name, back, err)
			}
		}
	}
	// The browser's preflight from the Web UI's origin carries no token and is answered.
	code, _, h := call(http.MethodOptions, "decode", "", nil)
	if code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != uiOrigin ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d, headers %v", code, h)
	}
}
