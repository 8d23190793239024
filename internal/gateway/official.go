package gateway

import (
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// The official documents' files: the PDF and its detached signature, served as themselves.
const (
	officialDownloadPattern  = "/v1/{name=officialDocuments/*}:download"
	officialSignaturePattern = "/v1/{name=officialDocuments/*}:signature"
)

// officialFileHandler serves an official document's PDF (signature false) or its detached
// signature, read with GetOfficialDocument's full view through the same connection and
// interceptors as every route. The documents are public announcements, so any cache may keep
// them: a document never changes once issued (a revision is another document), and the ETag
// is the PDF's SHA-256.
func officialFileHandler(mux *runtime.ServeMux, client seleksiv1.OfficialDocumentServiceClient, pattern string, signature bool, logger *slog.Logger) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		_, outbound := runtime.MarshalerForRequest(mux, r)
		ctx, err := runtime.AnnotateContext(r.Context(), mux, r, seleksiv1.OfficialDocumentService_GetOfficialDocument_FullMethodName,
			runtime.WithHTTPPathPattern(pattern))
		if err != nil {
			runtime.HTTPError(r.Context(), mux, outbound, w, r, err)
			return
		}
		var md runtime.ServerMetadata
		resp, err := client.GetOfficialDocument(ctx, &seleksiv1.GetOfficialDocumentRequest{Name: params["name"],
			View: seleksiv1.OfficialDocumentView_OFFICIAL_DOCUMENT_VIEW_FULL}, grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD))
		if err != nil {
			runtime.HTTPError(runtime.NewServerMetadataContext(ctx, md), mux, outbound, w, r, err)
			return
		}
		d := resp.GetOfficialDocument()
		id := d.GetName()[len("officialDocuments/"):]
		body, mediaType, file := d.GetContent(), "application/pdf", id+".pdf"
		if signature {
			body, mediaType, file = d.GetSignature(), "application/octet-stream", id+".pdf.sig"
		}
		h := w.Header()
		h.Set("Content-Type", mediaType)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": file}))
		h.Set("X-Content-Type-Options", "nosniff")
		if d.GetKind() == seleksiv1.OfficialDocumentKind_OFFICIAL_DOCUMENT_KIND_REGISTRATION_PROOF {
			// A proof of registration names its candidate: no shared cache keeps it.
			h.Set("Cache-Control", "private, no-store")
		} else {
			h.Set("Cache-Control", "public, max-age=86400")
		}
		h.Set("ETag", strconv.Quote(d.GetSha256()))
		w.WriteHeader(http.StatusOK)
		if _, err := w.Write(body); err != nil {
			logger.DebugContext(ctx, "official document download cut off", "document", id, "error", err)
		}
	}
}
