package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
)

// bigExport streams a fixed archive as ExportHistory does: a header, chunks of 256 KiB and a
// trailer. For "sel-cut" it fails after the first chunk, as an export does when the archive
// cannot be read halfway.
type bigExport struct {
	seleksiv1.UnimplementedAuditServiceServer
	data []byte
}

func (b *bigExport) ExportHistory(req *seleksiv1.ExportHistoryRequest, stream grpc.ServerStreamingServer[seleksiv1.ExportHistoryResponse]) error {
	if err := stream.Send(&seleksiv1.ExportHistoryResponse{Content: &seleksiv1.ExportHistoryResponse_Header{Header: &seleksiv1.BundleHeader{
		ContentType: "application/zip", FileName: "sel-big-20270301T090000Z.bundle.zip"}}}); err != nil {
		return err
	}
	for off := 0; off < len(b.data); off += 256 << 10 {
		if req.GetName() == "selections/sel-cut" && off > 0 {
			return status.Error(codes.Internal, "internal error")
		}
		if err := stream.Send(&seleksiv1.ExportHistoryResponse{Content: &seleksiv1.ExportHistoryResponse_Chunk{
			Chunk: b.data[off:min(off+256<<10, len(b.data))]}}); err != nil {
			return err
		}
	}
	sum := sha256.Sum256(b.data)
	return stream.Send(&seleksiv1.ExportHistoryResponse{Content: &seleksiv1.ExportHistoryResponse_Trailer{Trailer: &seleksiv1.BundleTrailer{
		SizeBytes: int64(len(b.data)), Sha256: hex.EncodeToString(sum[:])}}})
}

// TestExportDownload downloads an export larger than gRPC's 4 MiB message ceiling over REST:
// the route answers with the archive's bytes (not grpc-gateway's stream of JSON objects), as
// an attachment, with its digest in the Content-Digest trailer, and under the same
// authorization as the gRPC method. A stream that fails after the first byte cuts the
// download off rather than ending it as if it were complete.
func TestExportDownload(t *testing.T) {
	key, err := auth.LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mint := func(sub string, role auth.Role, sel ...string) string {
		tok, err := key.Mint(auth.MintOptions{Subject: sub, Role: role, Selections: sel, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// Random bytes, 12 MiB and a bit: several times the ceiling, and not a whole number of chunks.
	data := make([]byte, 12<<20+12345)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(data)
	tr, err := NewTransport(context.Background(), slog.New(slog.DiscardHandler), "127.0.0.1:0", "127.0.0.1:0", key.Verifier(time.Now), server.Services{
		Selection:    seleksiv1.UnimplementedSelectionServiceServer{},
		Application:  seleksiv1.UnimplementedApplicationServiceServer{},
		Audit:        &bigExport{data: data},
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(ctx)
	})
	base := "http://" + tr.HTTPAddr()
	get := func(path, token string) (*http.Response, []byte, error) {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, body, err
	}

	t.Run("auditor downloads the archive", func(t *testing.T) {
		resp, body, err := get("/v1/selections/sel-big:exportHistory", mint("auditor-1", auth.RoleAuditor))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename=sel-big-20270301T090000Z.bundle.zip` {
			t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
		}
		if len(body) != len(data) || string(body) != string(data) {
			t.Fatalf("downloaded %d bytes, want the %d bytes of the archive", len(body), len(data))
		}
		sum := sha256.Sum256(data)
		if got, want := resp.Trailer.Get("Content-Digest"), "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":"; got != want {
			t.Errorf("Content-Digest trailer %q, want %q", got, want)
		}
	})
	for _, tc := range []struct {
		name, path, token string
		want              int
	}{
		{"anonymous", "/v1/selections/sel-big:exportHistory", "", http.StatusUnauthorized},
		{"the secretariat", "/v1/selections/sel-big:exportHistory", mint("admin-1", auth.RoleAdmin), http.StatusForbidden},
		{"the selection's committee", "/v1/selections/sel-big:exportHistory", mint("member-1", auth.RoleCommittee, "sel-big"), http.StatusForbidden},
		{"a malformed name", "/v1/selections/NOT_VALID:exportHistory", mint("auditor-1", auth.RoleAuditor), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, err := get(tc.path, tc.token)
			if err != nil {
				t.Fatal(err)
			}
			var st rpcStatus
			if resp.StatusCode != tc.want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &st) != nil || st.Code == 0 {
				t.Fatalf("status %d, %s: %s; want %d with a google.rpc.Status", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.want)
			}
			if resp.Header.Get("Content-Disposition") != "" {
				t.Error("an error is offered as an attachment")
			}
		})
	}
	t.Run("an export failing halfway cuts the download off", func(t *testing.T) {
		resp, body, err := get("/v1/selections/sel-cut:exportHistory", mint("auditor-1", auth.RoleAuditor))
		if resp.StatusCode != http.StatusOK || err == nil {
			t.Fatalf("status %d, read %d bytes, error %v; want 200 and a failed read", resp.StatusCode, len(body), err)
		}
		if resp.Trailer.Get("Content-Digest") != "" {
			t.Error("a cut download carries a digest")
		}
	})
}
