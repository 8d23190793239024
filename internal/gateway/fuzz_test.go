package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// The REST decoding path is fuzzed end to end: raw HTTP requests (method, path, query,
// headers, body) are parsed as net/http's server parses them and handed to the gateway
// built by New, which talks over an in-process connection (bufconn) to a gRPC server that
// implements every method of the contract by recording the request it was sent and
// answering an empty response. What is checked is the gateway's own work: how it decodes
// JSON bodies, query parameters and path templates into the request protos, and how it
// reports what it cannot decode.

// callHeader carries a serial number from each fuzzed request to the gRPC server (the
// gateway forwards Grpc-Metadata-* headers as metadata), so a recorded request is matched
// to the HTTP request that caused it.
const callHeader = "Grpc-Metadata-Fuzz-Call"

// recorded is one gRPC call the gateway made.
type recorded struct {
	method string // full gRPC method name, /seleksi.v1.SelectionService/GetSelection
	req    proto.Message
}

// recorder is a gRPC server for any method of the registered files: it decodes the request
// into its message type, keeps it, and answers the method's response type, empty.
type recorder struct {
	mu    sync.Mutex
	calls map[string]recorded
}

func (r *recorder) handle(_ any, stream grpc.ServerStream) error {
	full, ok := grpc.MethodFromServerStream(stream)
	if !ok {
		return status.Error(codes.Internal, "no method")
	}
	md := methodDescriptor(full)
	if md == nil {
		return status.Errorf(codes.Unimplemented, "unknown method %s", full)
	}
	in, err := newMessage(md.Input())
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	if mdIn, ok := metadata.FromIncomingContext(stream.Context()); ok {
		if id := mdIn.Get("fuzz-call"); len(id) == 1 {
			r.mu.Lock()
			r.calls[id[0]] = recorded{method: full, req: in}
			r.mu.Unlock()
		}
	}
	if md.Output().FullName() == (&seleksiv1.ExportHistoryResponse{}).ProtoReflect().Descriptor().FullName() {
		// The export streams a header, the bundle's bytes and a trailer with its digest.
		sum := sha256.Sum256(exportBytes)
		for _, m := range []*seleksiv1.ExportHistoryResponse{
			{Content: &seleksiv1.ExportHistoryResponse_Header{Header: &seleksiv1.BundleHeader{ContentType: "application/zip", FileName: "seleksi-1.bundle.zip"}}},
			{Content: &seleksiv1.ExportHistoryResponse_Chunk{Chunk: exportBytes}},
			{Content: &seleksiv1.ExportHistoryResponse_Trailer{Trailer: &seleksiv1.BundleTrailer{SizeBytes: int64(len(exportBytes)), Sha256: hex.EncodeToString(sum[:])}}},
		} {
			if err := stream.SendMsg(m); err != nil {
				return err
			}
		}
		return nil
	}
	out, err := newMessage(md.Output())
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return stream.SendMsg(out)
}

// exportBytes stand for a bundle in the recorded export's answer.
var exportBytes = []byte("PK\x05\x06 an empty archive, as far as the gateway cares")

func (r *recorder) take(id string) (recorded, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[id]
	delete(r.calls, id)
	return c, ok
}

// methodDescriptor finds a method by its gRPC name (/pkg.Service/Method).
func methodDescriptor(full string) protoreflect.MethodDescriptor {
	svc, m, ok := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	return sd.Methods().ByName(protoreflect.Name(m))
}

func newMessage(d protoreflect.MessageDescriptor) (proto.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(d.FullName())
	if err != nil {
		return nil, fmt.Errorf("message type %s: %w", d.FullName(), err)
	}
	return mt.New().Interface(), nil
}

// harness is the gateway under test and the recording server behind it.
type harness struct {
	handler http.Handler
	rec     *recorder
	serial  atomic.Int64
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	rec := &recorder{calls: map[string]recorded{}}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(rec.handle))
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(func() {
		cancel()
		_ = conn.Close()
		srv.Stop()
	})
	h, err := New(ctx, conn, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	return &harness{handler: h, rec: rec}
}

// request is one fuzzed HTTP request.
type request struct {
	method, target, contentType, acceptLanguage string
	// header is one more header line, name and value (Grpc-Timeout, Authorization,
	// X-HTTP-Method-Override, Grpc-Metadata-*: what the gateway reads or forwards).
	headerName, headerValue string
	body                    []byte
}

// outcome is what the gateway answered and the gRPC call it made, if any.
type outcome struct {
	code   int
	header http.Header
	body   []byte
	call   *recorded
	// aborted is set when the handler cut the response off (http.ErrAbortHandler).
	aborted bool
}

// serve writes req as raw HTTP/1.1 and parses it with http.ReadRequest, as net/http's
// server does before any handler runs; a request the server itself would refuse (a bad
// request line, a malformed header) never reaches the gateway, so ok is false for it.
func (h *harness) serve(tb testing.TB, req request) (outcome, bool) {
	tb.Helper()
	id := strconv.FormatInt(h.serial.Add(1), 10)
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: seleksi.test\r\n", req.method, req.target)
	if req.contentType != "" {
		fmt.Fprintf(&raw, "Content-Type: %s\r\n", req.contentType)
	}
	if req.acceptLanguage != "" {
		fmt.Fprintf(&raw, "Accept-Language: %s\r\n", req.acceptLanguage)
	}
	switch http.CanonicalHeaderKey(req.headerName) {
	case "", "Host", "Content-Length", "Transfer-Encoding", "Content-Type", "Accept-Language", callHeader:
		// Framing and the headers set above stay as the harness sets them.
		req.headerName = ""
	default:
		fmt.Fprintf(&raw, "%s: %s\r\n", req.headerName, req.headerValue)
	}
	fmt.Fprintf(&raw, "%s: %s\r\nContent-Length: %d\r\n\r\n", callHeader, id, len(req.body))
	raw.Write(req.body)
	hr, err := http.ReadRequest(bufio.NewReader(&raw))
	if err != nil || hr.Method != req.method || hr.Header.Get(callHeader) != id ||
		hr.Header.Get("Accept-Language") != req.acceptLanguage || hr.Header.Get("Content-Type") != req.contentType ||
		(req.headerName != "" && (len(hr.Header) != 3+nonEmpty(req.contentType, req.acceptLanguage) || hr.Header.Get(req.headerName) != req.headerValue)) {
		// Refused, or the fuzzed text spilled into other header lines (a smuggled
		// header is net/http's business, not the gateway's).
		return outcome{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w := httptest.NewRecorder()
	aborted := serveHTTP(h.handler, w, hr.WithContext(ctx))
	out := outcome{code: w.Code, header: w.Header(), body: w.Body.Bytes(), aborted: aborted}
	if c, ok := h.rec.take(id); ok {
		out.call = &c
	}
	return out, true
}

// serveHTTP serves r as net/http's server does, which ends a response a handler aborts
// with http.ErrAbortHandler (a download cut off) without a trace; aborted reports it.
func serveHTTP(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler { //nolint:errorlint // net/http compares the same way
				panic(p)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// routes lists every REST route of the contract from the google.api.http options of the
// services New registers, so new methods are fuzzed (and seeded) without editing this file.
type route struct {
	method   protoreflect.MethodDescriptor
	verb     string // GET, POST, ...
	template string // /v1/{name=selections/*}:advance
	body     string // "", "*" or a field name
}

func routes() []route {
	var out []route
	for _, fd := range []protoreflect.FileDescriptor{
		seleksiv1.File_seleksi_v1_selection_proto,
		seleksiv1.File_seleksi_v1_application_proto,
		seleksiv1.File_seleksi_v1_audit_proto,
	} {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				rule, ok := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
				if !ok || rule == nil {
					continue
				}
				r := route{method: md, body: rule.GetBody()}
				switch p := rule.GetPattern().(type) {
				case *annotations.HttpRule_Get:
					r.verb, r.template = http.MethodGet, p.Get
				case *annotations.HttpRule_Post:
					r.verb, r.template = http.MethodPost, p.Post
				case *annotations.HttpRule_Put:
					r.verb, r.template = http.MethodPut, p.Put
				case *annotations.HttpRule_Patch:
					r.verb, r.template = http.MethodPatch, p.Patch
				case *annotations.HttpRule_Delete:
					r.verb, r.template = http.MethodDelete, p.Delete
				default:
					continue
				}
				out = append(out, r)
			}
		}
	}
	return out
}

func routeOf(full string) (route, bool) {
	for _, r := range routes() {
		if "/"+string(r.method.Parent().FullName())+"/"+string(r.method.Name()) == full {
			return r, true
		}
	}
	return route{}, false
}

var templateVar = regexp.MustCompile(`\{([a-z_.]+)=([^}]+)\}`)

// samplePath fills a route's template with plausible IDs: selections/seleksi-1 and so on.
func samplePath(template string) string {
	return templateVar.ReplaceAllStringFunc(template, func(v string) string {
		pat := templateVar.FindStringSubmatch(v)[2]
		n := 0
		return regexp.MustCompile(`\*`).ReplaceAllStringFunc(pat, func(string) string {
			n++
			return []string{"", "seleksi-1", "a-1", "administrative-screening"}[min(n, 3)]
		})
	})
}

// methods the fuzzer picks from: a method is fuzzed as an index so that the corpus does not
// spend its time on request lines net/http would refuse.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
	http.MethodHead, http.MethodOptions, "PROPFIND"}

func addGatewaySeeds(f *testing.F) {
	bodies := []string{
		``, `{}`, `{"requestId":"req-0001","reason":"alasan"}`, `{not json`, `{"unknownField":1}`,
		`{"requestId":"req-0001"} {"requestId":"req-0002"}`, `null`, `[]`, `"text"`,
		`{"expectedStage":"STAGE_NOPE"}`, `{"results":[{"application":"selections/seleksi-1/applications/a-1","scores":[{"score":"NaN"}]}]}`,
		`{"pageSize":"x"}`, "{\"reason\":\"\xff\"}", `{"ranked":[{"rank":-1}]}`, `{"displayName":{"id":1}}`,
	}
	queries := []string{``, `requestId=req-0001`, `pageSize=5000`, `pageSize=abc`, `pageSize=99999999999`,
		`pageToken=%zz`, `revision=-1`, `filter=stage%20%3D%20STAGE_INTERVIEW&orderBy=create_time%20desc`,
		`a=1&a=2`, `selection.committee=1`, `selectionId=x&selectionId=y`}
	langs := []string{"", "en", "id", "en-US,en;q=0.9", "*;q=0"}
	headers := [][2]string{{"", ""}, {"Grpc-Timeout", "1S"}, {"Grpc-Timeout", "x"}, {"Authorization", "Bearer x"},
		{"X-HTTP-Method-Override", "GET"}, {"Grpc-Metadata-Request-Bin", "!!"}, {"Grpc-Metadata-X", "\x80"},
		{"X-Forwarded-For", "1.2.3.4, ::1"}}
	i := 0
	for _, r := range routes() {
		path := samplePath(r.template)
		for _, m := range []string{r.verb, http.MethodDelete} {
			b := bodies[i%len(bodies)]
			q := queries[i%len(queries)]
			h := headers[i%len(headers)]
			f.Add(uint8(slicesIndex(methods, m)), path, q, "application/json", langs[i%len(langs)], h[0], h[1], []byte(b))
			i++
		}
	}
	for _, s := range []struct {
		method uint8
		path   string
		query  string
		ctype  string
		body   string
	}{
		{0, "/healthz", "", "", ""},
		{0, "/readyz", "", "", ""},
		{0, "/v1/selections/seleksi-1:exportHistory", "", "", ""},
		{0, "/openapi.json", "", "", ""},
		{0, "/", "", "", ""},
		{0, "/v1/selections/%zz", "", "", ""},
		{0, "/v1/selections/a%2Fb", "", "", ""},
		{0, "/v1/selections/:advance", "", "", ""},
		{1, "/v1/selections/x:advance", "", "application/x-www-form-urlencoded", "requestId=a&expectedStage=1"},
		{1, "/v1/selections", "pageSize=10", "application/x-www-form-urlencoded", "pageSize=abc"},
		{0, "/v1/selections/x/results/interview", "revision=4294967296", "", ""},
		{0, "//v1/selections", "", "", ""},
		{0, "/v1/selections/x/applications/y/objections", "pageSize=-1", "", ""},
	} {
		f.Add(s.method, s.path, s.query, s.ctype, "", "", "", []byte(s.body))
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return 0
}

func toRequest(method uint8, path, query, ctype, lang, hname, hvalue string, body []byte) request {
	target := path
	if query != "" {
		target += "?" + query
	}
	return request{method: methods[int(method)%len(methods)], target: target, contentType: ctype, acceptLanguage: lang,
		headerName: hname, headerValue: hvalue, body: body}
}

func nonEmpty(s ...string) int {
	n := 0
	for _, x := range s {
		if x != "" {
			n++
		}
	}
	return n
}

// FuzzGateway sends arbitrary requests through the gateway. Whatever arrives, the gateway
// must not panic and must answer either a success for a call that reached the gRPC server
// with exactly what the client sent, or a client error (4xx) that is the JSON form of
// google.rpc.Status, consistent with its HTTP status, in the client's language, naming the
// offending field for an invalid argument. The gRPC server behind it accepts everything,
// so a 5xx can only be the gateway's own failure to handle malformed input.
func FuzzGateway(f *testing.F) {
	addGatewaySeeds(f)
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, method uint8, path, query, ctype, lang, hname, hvalue string, body []byte) {
		req := toRequest(method, path, query, ctype, lang, hname, hvalue, body)
		out, ok := h.serve(t, req)
		if !ok {
			return
		}
		checkResponse(t, req, out)
	})
}

func checkResponse(t *testing.T, req request, out outcome) {
	t.Helper()
	if out.aborted {
		t.Fatalf("%s %s: the response was cut off after HTTP %d", req.method, req.target, out.code)
	}
	if out.code == http.StatusGatewayTimeout && strings.EqualFold(req.headerName, "Grpc-Timeout") {
		// The client set its own deadline (1n is one nanosecond), and it passed: 504
		// DEADLINE_EXCEEDED is the honest answer, and still a google.rpc.Status.
		checkStatus(t, req, out)
		return
	}
	if out.code >= 500 {
		t.Fatalf("%s %s: HTTP %d for a request the server never refused: %s", req.method, req.target, out.code, out.body)
	}
	if out.code >= 200 && out.code < 300 {
		checkSuccess(t, req, out)
		return
	}
	if out.code < 400 {
		t.Fatalf("%s %s: HTTP %d", req.method, req.target, out.code)
	}
	if out.call != nil {
		t.Fatalf("%s %s: HTTP %d after the gRPC call %s succeeded", req.method, req.target, out.code, out.call.method)
	}
	checkStatus(t, req, out)
}

// checkSuccess: a success is either one of the gateway's own pages or a call that reached
// the gRPC server, answered with the method's response as JSON and carrying the request
// the client sent.
func checkSuccess(t *testing.T, req request, out outcome) {
	t.Helper()
	if out.call == nil {
		// Only the gateway's own routes answer without a gRPC call (the health check
		// calls the real health service, which is not recorded).
		p := strings.SplitN(req.target, "?", 2)[0]
		if p != "/" && p != "/openapi.json" && p != "/healthz" && p != "/readyz" {
			t.Fatalf("%s %s: HTTP %d without a gRPC call", req.method, req.target, out.code)
		}
		return
	}
	md := methodDescriptor(out.call.method)
	if md.IsStreamingServer() {
		// The export is a download of the streamed bytes (the only streaming method).
		if ct := out.header.Get("Content-Type"); ct != "application/zip" || !bytes.Equal(out.body, exportBytes) {
			t.Fatalf("%s %s: the download is %q: %q", req.method, req.target, ct, out.body)
		}
		r, _ := routeOf(out.call.method)
		checkPathFields(t, req, r, out.call.req)
		return
	}
	resp, err := newMessage(md.Output())
	if err != nil {
		t.Fatal(err)
	}
	if err := protojson.Unmarshal(out.body, resp); err != nil {
		t.Fatalf("%s %s: the success body is not a %s: %v\n%s", req.method, req.target, md.Output().FullName(), err, out.body)
	}
	r, ok := routeOf(out.call.method)
	if !ok {
		t.Fatalf("%s %s reached %s, which has no REST route", req.method, req.target, out.call.method)
	}
	checkPathFields(t, req, r, out.call.req)
	checkBody(t, req, r, out.call.req)
}

// checkPathFields: every field the route's template binds holds a value of the template's
// shape (selections/*/applications/*: literal segments as written, each * one segment),
// whatever escaping the client used. A * may bind an empty segment (GET /v1/selections/):
// the server's validation of names refuses it, as it refuses any other malformed ID.
func checkPathFields(t *testing.T, req request, r route, msg proto.Message) {
	t.Helper()
	for _, m := range templateVar.FindAllStringSubmatch(r.template, -1) {
		field, pat := m[1], m[2]
		fd := msg.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(field))
		if fd == nil {
			t.Fatalf("route %s binds unknown field %s", r.template, field)
		}
		got := msg.ProtoReflect().Get(fd).String()
		gs, ps := strings.Split(got, "/"), strings.Split(pat, "/")
		if len(gs) != len(ps) {
			t.Fatalf("%s %s: %s = %q does not have the shape %s", req.method, req.target, field, got, pat)
		}
		for i := range ps {
			if ps[i] != "*" && ps[i] != gs[i] {
				t.Fatalf("%s %s: %s = %q does not have the shape %s", req.method, req.target, field, got, pat)
			}
		}
	}
}

// checkBody: what the gRPC server received in the body's place is exactly what the JSON
// body says, read the way any protojson client reads it: no part of a body silently
// dropped, added or read leniently.
func checkBody(t *testing.T, req request, r route, msg proto.Message) {
	t.Helper()
	if r.body == "" || req.method != r.verb {
		// Bodiless routes ignore the body, and a POST served by a GET route (form
		// fallback) takes its fields from the form.
		return
	}
	got := msg
	if r.body != "*" {
		fd := msg.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(r.body))
		got = msg.ProtoReflect().Get(fd).Message().Interface()
	}
	want := got.ProtoReflect().New().Interface()
	if len(bytes.TrimSpace(req.body)) > 0 {
		if err := protojson.Unmarshal(req.body, want); err != nil {
			t.Fatalf("%s %s: the gateway accepted a body protojson refuses (%v):\n%q", req.method, req.target, err, req.body)
		}
	}
	if r.body == "*" {
		// Path parameters override the body's fields of the same name.
		got, want = proto.Clone(got), proto.Clone(want)
		for _, m := range templateVar.FindAllStringSubmatch(r.template, -1) {
			fd := got.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(m[1]))
			got.ProtoReflect().Clear(fd)
			want.ProtoReflect().Clear(fd)
		}
	}
	if !proto.Equal(got, want) {
		t.Fatalf("%s %s: the gRPC server received\n%v\nfor the body\n%q\nwhich reads as\n%v", req.method, req.target, got, req.body, want)
	}
}

// checkStatus: a client error is the JSON form of google.rpc.Status whose code gives the
// HTTP status, with a message in the client's language (a LocalizedMessage detail in that
// language), and, for an invalid argument, a BadRequest detail naming at least one field.
func checkStatus(t *testing.T, req request, out outcome) {
	t.Helper()
	if ct := out.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: HTTP %d with Content-Type %q", req.method, req.target, out.code, ct)
	}
	var st spb.Status
	if err := protojson.Unmarshal(out.body, &st); err != nil {
		t.Fatalf("%s %s: HTTP %d body is not a google.rpc.Status (%v): %s", req.method, req.target, out.code, err, out.body)
	}
	code := codes.Code(st.GetCode())
	// A path served only for other methods is 405, which no gRPC code maps to; the
	// gateway pairs it with UNIMPLEMENTED, as grpc-gateway does.
	if code == codes.OK || (runtime.HTTPStatusFromCode(code) != out.code && (out.code != http.StatusMethodNotAllowed || code != codes.Unimplemented)) {
		t.Fatalf("%s %s: HTTP %d carries code %s: %s", req.method, req.target, out.code, code, out.body)
	}
	if strings.TrimSpace(st.GetMessage()) == "" {
		t.Fatalf("%s %s: HTTP %d with no message: %s", req.method, req.target, out.code, out.body)
	}
	var badRequest bool
	for _, d := range status.FromProto(&st).Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				badRequest = badRequest || (v.GetField() != "" && v.GetDescription() != "")
			}
		case error:
			t.Fatalf("%s %s: a detail does not decode: %v", req.method, req.target, d)
		}
	}
	if code == codes.InvalidArgument && !badRequest {
		t.Fatalf("%s %s: HTTP %d invalid argument names no field: %s", req.method, req.target, out.code, out.body)
	}
	if len(out.body) > 64<<10 {
		t.Fatalf("%s %s: a %d-byte error", req.method, req.target, len(out.body))
	}
}

// internalText are fragments of Go, protobuf and gRPC error text that mean a library's
// message reached the client instead of one written for people.
var internalText = []string{"strconv.", "proto:", "protojson", "json:", "rpc error", "grpc:", "invalid character",
	"syntax error", "goroutine", ".go:", "runtime error", "unexpected EOF", "invalid value for"}

// leakedInternalText returns the first fragment of internal text in an error body that
// the request itself did not contain (a message may quote what the client sent).
func leakedInternalText(req request, body []byte) string {
	sent := strings.ToLower(req.target + "\n" + string(req.body) + "\n" + req.acceptLanguage + "\n" + req.contentType)
	got := strings.ToLower(string(body))
	for _, s := range internalText {
		if strings.Contains(got, strings.ToLower(s)) && !strings.Contains(sent, strings.ToLower(s)) {
			return s
		}
	}
	return ""
}

// FuzzGatewayErrorsForPeople fuzzes as FuzzGateway does and checks what FuzzGateway leaves
// out: that every error is written for people (see checkWrittenForPeople). It is a
// separate target because the gateway passes library text through on the code this target
// was written against; issue 10 item 3 (honest errors) changes that.
func FuzzGatewayErrorsForPeople(f *testing.F) {
	addGatewaySeeds(f)
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, method uint8, path, query, ctype, lang, hname, hvalue string, body []byte) {
		req := toRequest(method, path, query, ctype, lang, hname, hvalue, body)
		out, ok := h.serve(t, req)
		if !ok || out.code < 400 {
			return
		}
		checkWrittenForPeople(t, req, out)
	})
}

// checkWrittenForPeople: an error carries its message in the client's language (a
// LocalizedMessage detail in the language Accept-Language asks for, Indonesian by
// default) and no library's own error text (strconv, protojson, encoding/json, gRPC),
// which the issue found in responses.
func checkWrittenForPeople(t *testing.T, req request, out outcome) {
	t.Helper()
	if s := leakedInternalText(req, out.body); s != "" {
		t.Fatalf("%s %s (Accept-Language %q): HTTP %d carries internal text %q: %s", req.method, req.target, req.acceptLanguage, out.code, s, out.body)
	}
	var st spb.Status
	if err := protojson.Unmarshal(out.body, &st); err != nil {
		t.Fatalf("%s %s: HTTP %d body is not a google.rpc.Status (%v): %s", req.method, req.target, out.code, err, out.body)
	}
	lang := i18n.FromAcceptLanguage(req.acceptLanguage)
	for _, d := range status.FromProto(&st).Details() {
		if lm, ok := d.(*errdetails.LocalizedMessage); ok && lm.GetLocale() == string(lang) && lm.GetMessage() != "" {
			return
		}
	}
	t.Fatalf("%s %s: HTTP %d has no message in %q: %s", req.method, req.target, out.code, lang, out.body)
}
