// Package web owns Seleksi's web application: server-rendered pages for the public,
// candidates, the committee, the secretariat and auditors, their templates and assets, the
// sessions they sign in with and their protection against cross-site requests.
//
// Pages call the same gRPC services any client calls, over the gateway's connection, as the
// signed-in person (a short-lived token minted for each request), so a page can never show
// or do more than that person could through the API. The store and the workflows are out of
// reach here on purpose.
package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/justinas/nosurf"
	"github.com/klauspost/compress/gzhttp"
	"google.golang.org/grpc"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/accounts/oidc"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Minter mints the bearer token a page presents to the API on behalf of its user: valid for
// a short time, carrying the user's role and, for a committee member, the seats linked to
// their account at that moment.
type Minter interface {
	Token(ctx context.Context, u User) (string, error)
}

// Options configure the web application.
type Options struct {
	// Conn reaches the gRPC services (the gateway's own in-process channel, so that the
	// client address forwarded with each call is believed).
	Conn grpc.ClientConnInterface
	// Sessions keeps session data; the database in every deployment (store.Sessions).
	Sessions scs.Store
	Minter   Minter
	Logger   *slog.Logger
	// Accounts are the local accounts people sign in with.
	Accounts *accounts.Service
	// Messages is the service's message catalog (internal/i18n), for what the accounts
	// package says as message codes.
	Messages *i18n.Catalog
	// OIDC signs people in through the agency's OpenID provider; nil when none is
	// configured.
	OIDC *oidc.Provider
	// Secure marks cookies Secure and makes the CSRF check expect https origins: true
	// whenever the service is reached over TLS (directly or behind a TLS proxy).
	Secure bool
	// IdleTimeout ends a session nobody used for this long; Lifetime ends any session this
	// long after sign-in. Zero: 30 minutes and 12 hours.
	IdleTimeout, Lifetime time.Duration
	// Uploads is the resumable upload handler (internal/documents) the API serves at
	// /v1/uploads/: the candidate pages relay their files to it in-process, as the signed-in
	// candidate. Nil: the pages say uploads are not available.
	Uploads http.Handler
}

// Server is the web application.
type Server struct {
	opts     Options
	logger   *slog.Logger
	sessions *scs.SessionManager
	pages    *pages
	api      apiClients
	handler  http.Handler
}

// apiClients are the services pages call.
type apiClients struct {
	selections    seleksiv1.SelectionServiceClient
	applications  seleksiv1.ApplicationServiceClient
	audit         seleksiv1.AuditServiceClient
	documents     seleksiv1.DocumentServiceClient
	notifications seleksiv1.NotificationServiceClient
	official      seleksiv1.OfficialDocumentServiceClient
	schedules     seleksiv1.ScheduleServiceClient
	attendance    seleksiv1.AttendanceServiceClient
	reports       seleksiv1.ReportServiceClient
}

// New builds the web application.
func New(o Options) (*Server, error) {
	if o.Conn == nil || o.Sessions == nil || o.Minter == nil || o.Logger == nil || o.Accounts == nil || o.Messages == nil {
		return nil, errors.New("web: a connection, a session store, a token minter, accounts, the message catalog and a logger are required")
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.Lifetime <= 0 {
		o.Lifetime = 12 * time.Hour
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, logger: o.Logger, pages: p, api: apiClients{
		selections:    seleksiv1.NewSelectionServiceClient(o.Conn),
		applications:  seleksiv1.NewApplicationServiceClient(o.Conn),
		audit:         seleksiv1.NewAuditServiceClient(o.Conn),
		documents:     seleksiv1.NewDocumentServiceClient(o.Conn),
		notifications: seleksiv1.NewNotificationServiceClient(o.Conn),
		official:      seleksiv1.NewOfficialDocumentServiceClient(o.Conn),
		schedules:     seleksiv1.NewScheduleServiceClient(o.Conn),
		attendance:    seleksiv1.NewAttendanceServiceClient(o.Conn),
		reports:       seleksiv1.NewReportServiceClient(o.Conn),
	}}
	s.sessions = scs.New()
	s.sessions.Store = o.Sessions
	s.sessions.IdleTimeout = o.IdleTimeout
	s.sessions.Lifetime = o.Lifetime
	s.sessions.Cookie.Name = sessionCookie
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.Secure = o.Secure
	// Lax: a link from an e-mail or another site opens the page signed in, while a form
	// posted from another site arrives without the session (and fails the CSRF check).
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.Path = "/"
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.logger.ErrorContext(r.Context(), "web: session store", "error", err)
		s.renderError(w, r, http.StatusServiceUnavailable, "error.unavailable")
	}

	mux := http.NewServeMux()
	s.routes(mux)
	csrf := nosurf.New(mux)
	csrf.SetBaseCookie(http.Cookie{Name: csrfCookie, Path: "/", HttpOnly: true, Secure: o.Secure, SameSite: http.SameSiteLaxMode, MaxAge: 12 * 3600})
	csrf.SetIsTLSFunc(func(r *http.Request) bool { return o.Secure || r.TLS != nil })
	csrf.SetFailureHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logger.InfoContext(r.Context(), "web: form refused by the CSRF check", "path", r.URL.Path, "reason", errString(nosurf.Reason(r)))
		s.renderError(w, r, http.StatusForbidden, "error.csrf")
	}))
	pagesHandler := s.sessions.LoadAndSave(s.checkAccount(securityHeaders(s.uploadGuard(csrf))))

	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	root := http.NewServeMux()
	root.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	root.Handle("/", pagesHandler)
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(512))
	if err != nil {
		return nil, fmt.Errorf("web: compression: %w", err)
	}
	s.handler = gz(root)
	return s, nil
}

// ServeHTTP serves every page and asset.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Cookie names.
const (
	sessionCookie = "seleksi_sesi"
	csrfCookie    = "seleksi_csrf"
	langCookie    = "seleksi_bahasa"
)

// multipartMemory is how much of a form with a file is held in memory; the rest of the file
// goes to a temporary file, removed when the request ends.
const multipartMemory = 1 << 20

// uploadGuard stands before the CSRF check on the forms that carry a file (/unggah/...,
// except the tus relay, which streams): the CSRF check reads the token from the form, which
// parses the whole body, so the person must be signed in with the role the form is for
// before anything is parsed, and the parse keeps little in memory and removes its files at
// the end. Otherwise anyone could fill the server's memory and disk with bodies no handler
// ever sees.
func (s *Server) uploadGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/unggah/")
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(rest, "tus/") {
			// The relay streams tus bodies; a form body here would be parsed by the CSRF
			// check (and left on disk) before the relay refused it.
			ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if strings.HasPrefix(ct, "multipart/") || ct == "application/x-www-form-urlencoded" {
				http.Error(w, http.StatusText(http.StatusUnsupportedMediaType), http.StatusUnsupportedMediaType)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			s.renderError(w, r, http.StatusMethodNotAllowed, "error.refused")
			return
		}
		role := auth.RoleCandidate
		if strings.HasPrefix(rest, "nilai/") {
			role = auth.RoleCommittee
		}
		u, signedIn := s.user(r)
		switch {
		case !signedIn:
			s.toSignIn(w, r)
			return
		case u.Role != role:
			s.renderError(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		if err := r.ParseMultipartForm(multipartMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			s.renderError(w, r, http.StatusBadRequest, "error.refused")
			return
		}
		defer func() {
			if r.MultipartForm != nil {
				_ = r.MultipartForm.RemoveAll()
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// checkAccount ends the session of an account that was disabled, removed or given another
// role since it signed in, so that disabling a compromised account takes effect at its
// next page, not when its session expires.
func (s *Server) checkAccount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if u, ok := s.user(r); ok {
			a, err := s.opts.Accounts.Get(ctx, u.AccountID)
			switch {
			case errors.Is(err, accounts.ErrNotFound) || err == nil && (a.Disabled || a.Role != u.Role):
				if err := s.signOut(ctx); err != nil {
					s.logger.ErrorContext(ctx, "web: end the session of a disabled account", "error", err)
				}
				s.logger.InfoContext(ctx, "web: session ended: the account is disabled or changed", "account", u.AccountID)
			case err != nil:
				s.logger.ErrorContext(ctx, "web: session's account", "error", err)
				s.renderError(w, r, http.StatusServiceUnavailable, "error.unavailable")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders keeps pages out of frames and scripts to our own, and stops browsers from
// guessing content types. Inline scripts are not allowed: every script is an asset.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
