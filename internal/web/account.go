package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/accounts/oidc"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// accountRoutes registers sign-in, registration, e-mail confirmation, password reset, the
// first secretariat account's setup and sign-in through the agency's OpenID provider.
func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /masuk", s.signInForm)
	mux.HandleFunc("POST /masuk", s.signInPost)
	mux.HandleFunc("GET /daftar", s.page("account/register"))
	mux.HandleFunc("POST /daftar", s.registerPost)
	mux.HandleFunc("GET /konfirmasi", s.prefilled("account/confirm", "email"))
	mux.HandleFunc("POST /konfirmasi", s.confirmPost)
	mux.HandleFunc("POST /konfirmasi/kirim-ulang", s.resendPost)
	mux.HandleFunc("GET /lupa-sandi", s.page("account/forgot"))
	mux.HandleFunc("POST /lupa-sandi", s.forgotPost)
	mux.HandleFunc("GET /atur-sandi", s.prefilled("account/reset", "email"))
	mux.HandleFunc("POST /atur-sandi", s.resetPost)
	mux.HandleFunc("GET /pengaturan-awal", s.prefilled("account/setup", "code"))
	mux.HandleFunc("POST /pengaturan-awal", s.setupPost)
	mux.HandleFunc("GET /masuk/instansi", s.oidcBegin)
	mux.HandleFunc("GET /masuk/instansi/kembali", s.oidcCallback)
}

// page serves a page with no data.
func (s *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.render(w, r, http.StatusOK, name, nil) }
}

// prefilled serves a form with some fields filled from the query (the e-mail address a
// previous step knew, the setup code of the first-start link).
func (s *Server) prefilled(name string, fields ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		form := url.Values{}
		for _, f := range fields {
			form.Set(f, r.URL.Query().Get(f))
		}
		s.renderForm(w, r, http.StatusOK, name, nil, form, nil)
	}
}

// roleHome is where a user lands after signing in.
func roleHome(r auth.Role) string {
	switch r {
	case auth.RoleCommittee:
		return "/panitia"
	case auth.RoleAdmin:
		return "/sekretariat"
	case auth.RoleAuditor:
		return "/audit"
	default:
		return "/lamaran"
	}
}

// signInData is the sign-in page's data.
type signInData struct {
	Next string
	OIDC bool
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "account/signin", signInData{Next: back(r.URL.Query()), OIDC: s.opts.OIDC != nil})
}

// startSession signs a into this request's session and sends them on: to next when it is a
// page of this site, else to their role's home page.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, a accounts.Account, next, flash string, selections ...string) {
	if err := s.SignIn(r.Context(), User{AccountID: a.ID, Issuer: a.Issuer, Subject: a.Subject, Role: a.Role, Name: a.FullName, Selections: selections}); err != nil {
		s.logger.ErrorContext(r.Context(), "web: start session", "error", err)
		s.renderError(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	s.flash(r.Context(), flash)
	if next == "/" || next == "" {
		next = roleHome(a.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signInPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	form := r.PostForm
	next := back(form)
	a, err := s.opts.Accounts.SignIn(r.Context(), form.Get("email"), form.Get("password"))
	var locked *accounts.LockedError
	switch {
	case err == nil:
		s.startSession(w, r, a, next, "account.signed_in")
		return
	case errors.Is(err, accounts.ErrNotConfirmed):
		_ = s.opts.Accounts.ResendConfirmation(r.Context(), form.Get("email"))
		s.flash(r.Context(), "account.confirm.needed")
		http.Redirect(w, r, "/konfirmasi?email="+url.QueryEscape(form.Get("email")), http.StatusSeeOther)
		return
	case errors.As(err, &locked):
		v := view{p: s.pages, Lang: s.lang(r)}
		msg := v.T("account.signin.locked", "until", formatTime(locked.Until, 0, s.lang(r), true))
		s.renderForm(w, r, http.StatusTooManyRequests, "account/signin", signInData{Next: next, OIDC: s.opts.OIDC != nil}, form, map[string]string{"email": msg})
		return
	case errors.Is(err, accounts.ErrDisabled):
		s.renderForm(w, r, http.StatusForbidden, "account/signin", signInData{Next: next, OIDC: s.opts.OIDC != nil}, form, s.textErr(r, "email", "account.signin.disabled"))
		return
	case errors.Is(err, accounts.ErrInvalidCredentials), errors.Is(err, accounts.ErrInvalidInput), errors.Is(err, accounts.ErrNotFound):
		// One answer whether the address is unknown or the password wrong: the form tells
		// nobody which addresses have accounts.
		s.renderForm(w, r, http.StatusUnauthorized, "account/signin", signInData{Next: next, OIDC: s.opts.OIDC != nil}, form, s.textErr(r, "email", "account.signin.invalid"))
		return
	default:
		s.accountFailed(w, r, err)
	}
}

// textErr is a field error given by a UI text code.
func (s *Server) textErr(r *http.Request, field, code string) map[string]string {
	return map[string]string{field: view{p: s.pages, Lang: s.lang(r)}.T(code)}
}

// accountErrors are the field errors of an accounts call, in the page's language.
func (s *Server) accountErrors(r *http.Request, err error) map[string]string {
	out := map[string]string{}
	for _, fe := range accounts.FieldErrors(err) {
		if _, seen := out[fe.Field]; !seen {
			out[fe.Field] = s.opts.Messages.Render(fe.Message(), s.lang(r))
		}
	}
	return out
}

// accountFailed answers an accounts call that failed for a reason not the user's.
func (s *Server) accountFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.ErrorContext(r.Context(), "web: accounts", "path", r.URL.Path, "error", err)
	s.renderError(w, r, http.StatusServiceUnavailable, "error.unavailable")
}

// passwordsMatch checks the repeated password, the one check the service cannot make.
func (s *Server) passwordsMatch(r *http.Request) map[string]string {
	if r.PostForm.Get("password") != r.PostForm.Get("password_again") {
		return s.textErr(r, "password_again", "account.register.mismatch")
	}
	return nil
}

func (s *Server) registerPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	if errs := s.passwordsMatch(r); errs != nil {
		s.renderForm(w, r, http.StatusBadRequest, "account/register", nil, f, errs)
		return
	}
	_, err := s.opts.Accounts.Register(r.Context(), accounts.Registration{FullName: f.Get("full_name"), NIP: strings.TrimSpace(f.Get("nip")),
		Email: f.Get("email"), Password: f.Get("password"), Lang: s.lang(r)})
	if err != nil {
		if errs := s.accountErrors(r, err); len(errs) > 0 {
			s.renderForm(w, r, http.StatusBadRequest, "account/register", nil, f, errs)
			return
		}
		s.accountFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/konfirmasi?email="+url.QueryEscape(f.Get("email")), http.StatusSeeOther)
}

func (s *Server) confirmPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	a, err := s.opts.Accounts.Confirm(r.Context(), f.Get("email"), f.Get("code"))
	switch {
	case err == nil:
		s.startSession(w, r, a, "", "account.confirm.done")
	case errors.Is(err, accounts.ErrInvalidCode), errors.Is(err, accounts.ErrInvalidInput), errors.Is(err, accounts.ErrNotFound):
		s.renderForm(w, r, http.StatusBadRequest, "account/confirm", nil, f, s.textErr(r, "code", "account.code.invalid"))
	default:
		s.accountFailed(w, r, err)
	}
}

func (s *Server) resendPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	email := r.PostForm.Get("email")
	if err := s.opts.Accounts.ResendConfirmation(r.Context(), email); err != nil && !errors.Is(err, accounts.ErrInvalidInput) && !errors.Is(err, accounts.ErrNotFound) {
		s.accountFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "account.confirm.sent")
	http.Redirect(w, r, "/konfirmasi?email="+url.QueryEscape(email), http.StatusSeeOther)
}

func (s *Server) forgotPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	email := r.PostForm.Get("email")
	if err := s.opts.Accounts.RequestPasswordReset(r.Context(), email); err != nil {
		if errs := s.accountErrors(r, err); len(errs) > 0 {
			s.renderForm(w, r, http.StatusBadRequest, "account/forgot", nil, r.PostForm, errs)
			return
		}
		s.accountFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "account.forgot.sent")
	http.Redirect(w, r, "/atur-sandi?email="+url.QueryEscape(email), http.StatusSeeOther)
}

func (s *Server) resetPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	if errs := s.passwordsMatch(r); errs != nil {
		s.renderForm(w, r, http.StatusBadRequest, "account/reset", nil, f, errs)
		return
	}
	err := s.opts.Accounts.ResetPassword(r.Context(), f.Get("email"), f.Get("code"), f.Get("password"))
	switch {
	case err == nil:
		s.flash(r.Context(), "account.reset.done")
		http.Redirect(w, r, "/masuk", http.StatusSeeOther)
	case errors.Is(err, accounts.ErrInvalidCode), errors.Is(err, accounts.ErrNotFound):
		s.renderForm(w, r, http.StatusBadRequest, "account/reset", nil, f, s.textErr(r, "code", "account.code.invalid"))
	default:
		if errs := s.accountErrors(r, err); len(errs) > 0 {
			s.renderForm(w, r, http.StatusBadRequest, "account/reset", nil, f, errs)
			return
		}
		s.accountFailed(w, r, err)
	}
}

func (s *Server) setupPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	if errs := s.passwordsMatch(r); errs != nil {
		s.renderForm(w, r, http.StatusBadRequest, "account/setup", nil, f, errs)
		return
	}
	a, err := s.opts.Accounts.CompleteSetup(r.Context(), f.Get("code"), accounts.NewAccount{Role: auth.RoleAdmin,
		FullName: f.Get("full_name"), NIP: strings.TrimSpace(f.Get("nip")), Email: f.Get("email"), Lang: s.lang(r)}, f.Get("password"))
	switch {
	case err == nil:
		s.startSession(w, r, a, "/sekretariat", "account.setup.done")
	case errors.Is(err, accounts.ErrInvalidCode):
		s.renderForm(w, r, http.StatusBadRequest, "account/setup", nil, f, s.textErr(r, "code", "account.setup.invalid"))
	default:
		if errs := s.accountErrors(r, err); len(errs) > 0 {
			s.renderForm(w, r, http.StatusBadRequest, "account/setup", nil, f, errs)
			return
		}
		s.accountFailed(w, r, err)
	}
}

// Session keys of a sign-in through the OpenID provider, between leaving for the provider
// and coming back.
const (
	keyOIDCState    = "oidc_state"
	keyOIDCNonce    = "oidc_nonce"
	keyOIDCVerifier = "oidc_verifier"
	keyOIDCCreated  = "oidc_created"
	keyOIDCNext     = "oidc_next"
)

// oidcBegin sends the browser to the agency's OpenID provider, keeping the flow's secrets
// (state, nonce, PKCE verifier) in the session.
func (s *Server) oidcBegin(w http.ResponseWriter, r *http.Request) {
	if s.opts.OIDC == nil {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	to, p, err := s.opts.OIDC.Begin()
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	ctx := r.Context()
	s.sessions.Put(ctx, keyOIDCState, p.State)
	s.sessions.Put(ctx, keyOIDCNonce, p.Nonce)
	s.sessions.Put(ctx, keyOIDCVerifier, p.Verifier)
	s.sessions.Put(ctx, keyOIDCCreated, strconv.FormatInt(p.Created.Unix(), 10))
	s.sessions.Put(ctx, keyOIDCNext, back(r.URL.Query()))
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// oidcCallback finishes a sign-in through the OpenID provider: the code is exchanged, the
// ID token verified, the person's role mapped from their claims, and their account found or
// made.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.opts.OIDC == nil {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ctx := r.Context()
	created, _ := strconv.ParseInt(s.sessions.PopString(ctx, keyOIDCCreated), 10, 64)
	p := oidc.Pending{State: s.sessions.PopString(ctx, keyOIDCState), Nonce: s.sessions.PopString(ctx, keyOIDCNonce),
		Verifier: s.sessions.PopString(ctx, keyOIDCVerifier), Created: time.Unix(created, 0)}
	next := s.sessions.PopString(ctx, keyOIDCNext)
	id, err := s.opts.OIDC.Finish(ctx, p, r.URL.Query())
	if err != nil {
		code := "account.signin.oidc_failed"
		if errors.Is(err, oidc.ErrNoRole) {
			code = "account.signin.oidc_no_role"
		}
		s.logger.InfoContext(ctx, "web: sign-in through the OpenID provider refused", "error", err)
		s.renderForm(w, r, http.StatusUnauthorized, "account/signin", signInData{Next: next, OIDC: true}, nil, s.textErr(r, "email", code))
		return
	}
	a, err := s.opts.Accounts.External(ctx, id.Issuer, id.Subject, id.Role, id.Name, id.Email)
	if err != nil {
		if errors.Is(err, accounts.ErrDisabled) {
			s.renderForm(w, r, http.StatusForbidden, "account/signin", signInData{Next: next, OIDC: true}, nil, s.textErr(r, "email", "account.signin.disabled"))
			return
		}
		s.accountFailed(w, r, err)
		return
	}
	s.startSession(w, r, a, next, "account.signed_in", id.Selections...)
}
