package gateway

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// downloadPattern is DownloadDocument's route, as the proto declares it.
const downloadPattern = "/v1/{name=documents/*}:download"

// downloadHandler serves DownloadDocument as the file itself, as exportHandler serves a
// bundle: through the same connection and interceptors as every route (authentication, the
// access table, validation), errors before the first byte as a google.rpc.Status, a failure
// after it as a cut-off transfer. The file is a candidate's upload, so nothing may render it
// in our origin: it is an attachment of its sniffed type, never sniffed again by the browser
// (nosniff), sandboxed should it be opened anyway, and kept by no shared cache. Its ETag is
// its SHA-256.
func downloadHandler(mux *runtime.ServeMux, client seleksiv1.DocumentServiceClient, logger *slog.Logger) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		_, outbound := runtime.MarshalerForRequest(mux, r)
		ctx, err := runtime.AnnotateContext(r.Context(), mux, r, seleksiv1.DocumentService_DownloadDocument_FullMethodName,
			runtime.WithHTTPPathPattern(downloadPattern))
		if err != nil {
			runtime.HTTPError(r.Context(), mux, outbound, w, r, err)
			return
		}
		var md runtime.ServerMetadata
		stream, err := client.DownloadDocument(ctx, &seleksiv1.DownloadDocumentRequest{Name: params["name"]},
			grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD))
		var first *seleksiv1.DownloadDocumentResponse
		if err == nil {
			first, err = stream.Recv()
		}
		if err == nil && first.GetHeader() == nil {
			logger.ErrorContext(ctx, "download stream did not start with its header", "got", fmt.Sprintf("%T", first.GetContent()))
			err = status.Error(codes.Internal, "internal error")
		}
		if err != nil {
			runtime.HTTPError(runtime.NewServerMetadataContext(ctx, md), mux, outbound, w, r, err)
			return
		}
		doc := first.GetHeader()
		h := w.Header()
		h.Set("Content-Type", doc.GetMediaType())
		h.Set("Content-Length", strconv.FormatInt(doc.GetSizeBytes(), 10))
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": doc.GetFileName()}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "sandbox")
		h.Set("Cache-Control", "private, no-store")
		h.Set("ETag", strconv.Quote(doc.GetSha256()))
		w.WriteHeader(http.StatusOK)

		rc := http.NewResponseController(w)
		var sent int64
		for {
			msg, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				if sent != doc.GetSizeBytes() {
					abortDownload(ctx, logger, r, fmt.Errorf("the stream ended after %d of %d bytes", sent, doc.GetSizeBytes()))
				}
				return
			}
			if err != nil {
				abortDownload(ctx, logger, r, err)
			}
			chunk := msg.GetChunk()
			if chunk == nil {
				abortDownload(ctx, logger, r, fmt.Errorf("unexpected %T in the download stream", msg.GetContent()))
			}
			_ = rc.SetWriteDeadline(time.Now().Add(exportChunkTimeout))
			if _, err := w.Write(chunk); err != nil {
				abortDownload(ctx, logger, r, err)
			}
			sent += int64(len(chunk))
		}
	}
}
