package app

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// CodecPath is where the payload codec endpoint is served: POST CodecPath+"decode" and
// CodecPath+"encode", the shape Temporal's Web UI and CLI call a "codec server" with
// (a Payloads message in protobuf JSON in, the same out).
const CodecPath = "/codec/"

// codecRoles are who may use the codec endpoint's operation op (nil for no such operation):
// decoding shows what the histories carry, which the auditors and the secretariat may read
// anyway; encoding makes payloads the workers accept as genuine (the Web UI encodes what an
// operator types in to signal a workflow), which only the secretariat may do.
func codecRoles(op string) []auth.Role {
	switch op {
	case "decode":
		return []auth.Role{auth.RoleAdmin, auth.RoleAuditor}
	case "encode":
		return []auth.Role{auth.RoleAdmin}
	}
	return nil
}

// codecHandler serves the payload codec to callers holding an admin or auditor bearer token
// (the Web UI sends the operator's token when its codec setting "pass access token" is on),
// and answers the browser's CORS preflight for the Web UI's origins.
type codecHandler struct {
	codec    http.Handler
	verifier auth.Verifier
	origins  []string
	logger   *slog.Logger
}

func newCodecHandler(codec converter.PayloadCodec, verifier auth.Verifier, origins []string, logger *slog.Logger) http.Handler {
	return &codecHandler{codec: converter.NewPayloadCodecHTTPHandler(codec), verifier: verifier, origins: origins, logger: logger}
}

func (h *codecHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(h.origins, origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		// A preflight carries no token; the request it announces is authorized on its own.
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	op := strings.TrimPrefix(r.URL.Path, CodecPath)
	roles := codecRoles(op)
	if roles == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "metode tidak diizinkan / method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p, err := h.verifier.Verify(r.Context(), bearerToken(r))
	if err != nil {
		if !errors.Is(err, auth.ErrUnauthenticated) {
			h.logger.WarnContext(r.Context(), "codec endpoint: token verification", "error", err)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="seleksi"`)
		http.Error(w, "tidak terautentikasi / unauthenticated", http.StatusUnauthorized)
		return
	}
	if !slices.Contains(roles, p.Role) {
		http.Error(w, "tidak diizinkan / permission denied", http.StatusForbidden)
		return
	}
	h.codec.ServeHTTP(w, r)
}

// bearerToken is the request's bearer token, empty when it has none.
func bearerToken(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}
