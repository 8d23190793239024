package gateway

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// exportPattern is ExportHistory's route, as the proto declares it.
const exportPattern = "/v1/{name=selections/*}:exportHistory"

// exportChunkTimeout bounds how long one chunk of a download may take to reach the client. A
// download has no overall limit, since a bundle has no size limit, but a client that stops
// reading must not hold the export (and the server's memory of it) forever.
const exportChunkTimeout = 2 * time.Minute

// exportHandler serves ExportHistory as a download: the bundle's bytes themselves
// (application/zip, as an attachment), not grpc-gateway's stream of JSON objects. It calls
// the gRPC method through the same connection and with the same metadata as every generated
// route (runtime.AnnotateContext), so the request meets the same interceptors:
// authentication, the access table and validation. Errors before the first byte are written
// by the mux's error handler, as a google.rpc.Status like on every other route. After it the
// status line is gone; a failure then cuts the response off, so that the client sees a broken
// transfer rather than a short file that looks complete. The archive's SHA-256 follows in the
// Content-Digest trailer (RFC 9530).
func exportHandler(mux *runtime.ServeMux, client seleksiv1.AuditServiceClient, logger *slog.Logger) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		_, outbound := runtime.MarshalerForRequest(mux, r)
		ctx, err := runtime.AnnotateContext(r.Context(), mux, r, seleksiv1.AuditService_ExportHistory_FullMethodName,
			runtime.WithHTTPPathPattern(exportPattern))
		if err != nil {
			runtime.HTTPError(r.Context(), mux, outbound, w, r, err)
			return
		}
		var md runtime.ServerMetadata
		stream, err := client.ExportHistory(ctx, &seleksiv1.ExportHistoryRequest{Name: params["name"]},
			grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD))
		var first *seleksiv1.ExportHistoryResponse
		if err == nil {
			first, err = stream.Recv()
		}
		if err == nil && first.GetHeader() == nil {
			logger.ErrorContext(ctx, "export stream did not start with its header", "got", fmt.Sprintf("%T", first.GetContent()))
			err = status.Error(codes.Internal, "internal error")
		}
		if err != nil {
			runtime.HTTPError(runtime.NewServerMetadataContext(ctx, md), mux, outbound, w, r, err)
			return
		}
		head := first.GetHeader()
		h := w.Header()
		h.Set("Content-Type", head.GetContentType())
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": head.GetFileName()}))
		h.Set("X-Content-Type-Options", "nosniff")
		// Evidence for auditors only: no shared cache may keep a copy.
		h.Set("Cache-Control", "no-store")
		h.Set("Trailer", "Content-Digest")
		w.WriteHeader(http.StatusOK)

		rc := http.NewResponseController(w)
		for {
			msg, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				err = errors.New("the stream ended without its trailer")
			}
			if err != nil {
				abortDownload(ctx, logger, r, err)
			}
			switch c := msg.GetContent().(type) {
			case *seleksiv1.ExportHistoryResponse_Chunk:
				// Each chunk gets its own deadline, which also lifts the server's
				// WriteTimeout, if one is set, for as long as the client keeps reading.
				_ = rc.SetWriteDeadline(time.Now().Add(exportChunkTimeout))
				if _, err := w.Write(c.Chunk); err != nil {
					abortDownload(ctx, logger, r, err)
				}
			case *seleksiv1.ExportHistoryResponse_Trailer:
				sum, err := hex.DecodeString(c.Trailer.GetSha256())
				if err != nil {
					abortDownload(ctx, logger, r, fmt.Errorf("the trailer's digest: %w", err))
				}
				h.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
				return
			default:
				abortDownload(ctx, logger, r, fmt.Errorf("unexpected %T in the export stream", c))
			}
		}
	}
}

// abortDownload ends a download whose status line is already sent: net/http then closes the
// connection (HTTP/1.1) or resets the stream (HTTP/2) without the final chunk, which every
// client reports as an incomplete transfer.
func abortDownload(ctx context.Context, logger *slog.Logger, r *http.Request, err error) {
	if ctx.Err() == nil {
		logger.WarnContext(ctx, "export download cut off", "path", r.URL.Path, "error", status.Convert(err).Message())
	}
	panic(http.ErrAbortHandler)
}
