package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// User is the person signed in to a session.
type User struct {
	// AccountID is their account in internal/accounts.
	AccountID string
	// Issuer and Subject are who the API knows them as (auth.Principal).
	Issuer, Subject string
	Role            auth.Role
	// Name is shown in the page header.
	Name string
	// Selections are the committee selections the identity provider's claims named at
	// sign-in; a local committee account has none here, its seats are looked up when each
	// token is minted.
	Selections []string
}

// Session keys.
const (
	keyAccount = "account"
	keyIssuer  = "issuer"
	keySubject = "subject"
	keyRole    = "role"
	keyName    = "name"
	keySels    = "selections"
	keyFlash   = "flash"
)

// user is the signed-in user of the request, if any.
func (s *Server) user(r *http.Request) (User, bool) {
	ctx := r.Context()
	id := s.sessions.GetString(ctx, keyAccount)
	if id == "" {
		return User{}, false
	}
	return User{AccountID: id, Issuer: s.sessions.GetString(ctx, keyIssuer), Subject: s.sessions.GetString(ctx, keySubject),
		Role: auth.Role(s.sessions.GetString(ctx, keyRole)), Name: s.sessions.GetString(ctx, keyName),
		Selections: strings.Fields(s.sessions.GetString(ctx, keySels))}, true
}

// SignIn starts u's session on this request. The session token is renewed first, so a token
// planted before sign-in (session fixation) is worth nothing after it.
func (s *Server) SignIn(ctx context.Context, u User) error {
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, keyAccount, u.AccountID)
	s.sessions.Put(ctx, keyIssuer, u.Issuer)
	s.sessions.Put(ctx, keySubject, u.Subject)
	s.sessions.Put(ctx, keyRole, string(u.Role))
	s.sessions.Put(ctx, keyName, u.Name)
	s.sessions.Put(ctx, keySels, strings.Join(u.Selections, " "))
	return nil
}

// signOut ends the session everywhere: its row is deleted, not just the cookie.
func (s *Server) signOut(ctx context.Context) error { return s.sessions.Destroy(ctx) }

// flash keeps a message code to show on the next page the user sees.
func (s *Server) flash(ctx context.Context, code string) { s.sessions.Put(ctx, keyFlash, code) }

// require serves h only to a signed-in user with one of roles (any role when none are
// named). Someone not signed in, or whose session ended, is sent to sign in and brought back
// to where they were going; a signed-in user of another role gets 403.
func (s *Server) require(h http.HandlerFunc, roles ...auth.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.user(r)
		if !ok {
			s.toSignIn(w, r)
			return
		}
		if len(roles) > 0 && !slices.Contains(roles, u.Role) {
			s.renderError(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		h(w, r)
	}
}

// toSignIn redirects to the sign-in page, which returns to this page (a GET) or to the page
// the form was on (a POST) afterwards.
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request) {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = localReferer(r)
	}
	http.Redirect(w, r, "/masuk?kembali="+url.QueryEscape(back), http.StatusSeeOther)
}

// localReferer is the path of the page a request came from, if it is one of ours.
func localReferer(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host {
		return "/"
	}
	return safeNext(ref.RequestURI())
}

// safeNext keeps a return address on this site: a path, never another host (an open
// redirect would let a phishing link sign people in and send them elsewhere).
func safeNext(next string) string {
	// Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
	// "/\t/evil.example" would leave the site: such characters are refused anywhere.
	if next == "" || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}
