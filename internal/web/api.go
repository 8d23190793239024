package web

import (
	"context"
	"errors"
	"net"
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// call is the context a page calls the API in: as the signed-in user (if any), in the
// page's language, from the client's address (resolved by the edge, so rate limits and
// logs see the person, not this process).
func (s *Server) call(r *http.Request) (context.Context, error) {
	md := metadata.Pairs("accept-language", string(s.lang(r)))
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		md.Set("x-forwarded-for", host)
	}
	if u, ok := s.user(r); ok {
		tok, err := s.opts.Minter.Token(r.Context(), u)
		if err != nil {
			// The seats could not be read: the store is away, which the person can only
			// wait out.
			s.logger.ErrorContext(r.Context(), "web: mint the page's token", "error", err)
			return nil, status.Error(codes.Unavailable, "")
		}
		md.Set("authorization", "Bearer "+tok)
	}
	return metadata.NewOutgoingContext(r.Context(), md), nil
}

// fieldErrors are the field violations of an InvalidArgument answer, by field, in the
// language the call asked for.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return out
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if _, seen := out[v.GetField()]; !seen {
					out[v.GetField()] = v.GetDescription()
				}
			}
		}
	}
	return out
}

// apiFailed answers a page whose API call failed with what the person can do about it: sign
// in again, a page that does not exist (also what someone else's application looks like),
// not allowed, try again later. The API's message is already in the page's language and
// never carries internal details.
func (s *Server) apiFailed(w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Unauthenticated:
		if errors.Is(err, context.Canceled) {
			return
		}
		_ = s.signOut(r.Context())
		s.toSignIn(w, r)
	case codes.NotFound:
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
	case codes.PermissionDenied:
		s.renderErrorText(w, r, http.StatusForbidden, "error.forbidden", st.Message())
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		s.renderErrorText(w, r, http.StatusServiceUnavailable, "error.unavailable", st.Message())
	case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.OutOfRange:
		s.renderErrorText(w, r, http.StatusConflict, "error.refused", st.Message())
	default:
		s.logger.ErrorContext(r.Context(), "web: API call failed", "path", r.URL.Path, "code", st.Code().String())
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
	}
}

// loadSelection is how most pages start: the context to call the API in as the page's
// person, and the selection the page is about. When either fails it answers the page itself
// (sign in again, not found, unavailable...) and reports false.
func (s *Server) loadSelection(w http.ResponseWriter, r *http.Request, id string) (context.Context, *seleksiv1.Selection, bool) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return nil, nil, false
	}
	sel, err := s.getSelection(ctx, id)
	if err != nil {
		s.apiFailed(w, r, err)
		return nil, nil, false
	}
	return ctx, sel, true
}
