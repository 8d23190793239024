package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/accounts"
)

// tokenRoutes registers the personal access tokens page: anyone signed in lists, makes and
// revokes the tokens seleksictl and their scripts call the API with, with the rights of
// their account.
func (s *Server) tokenRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /akun/token", s.require(s.tokensPage))
	mux.HandleFunc("POST /akun/token", s.require(s.tokenCreate))
	mux.HandleFunc("POST /akun/token/{id}/cabut", s.require(s.tokenRevoke))
}

// tokenZone is the zone token times are shown in: tokens belong to no selection, and the
// agency works in WIB.
const tokenZone = seleksiv1.TimeZone_TIME_ZONE_WIB

// tokenRow is one token in the list.
type tokenRow struct {
	ID, Name                   string
	Created, Expires, LastUsed *timestamppb.Timestamp
	Expired                    bool
}

// newToken is a token just made, with its secret, shown once.
type newToken struct {
	Name    string
	Secret  string
	Expires *timestamppb.Timestamp
	// Base is this site's address, where the REST API answers too.
	Base string
}

type tokensData struct {
	Tokens               []tokenRow
	Zone                 seleksiv1.TimeZone
	MaxDays, DefaultDays int
	New                  *newToken
}

func (s *Server) tokensData(r *http.Request) (tokensData, error) {
	u, _ := s.user(r)
	list, err := s.opts.Accounts.Tokens(r.Context(), u.AccountID)
	if err != nil {
		return tokensData{}, err
	}
	d := tokensData{Zone: tokenZone, MaxDays: int(accounts.MaxTokenTTL / day), DefaultDays: int(accounts.DefaultTokenTTL / day)}
	now := time.Now()
	for _, t := range list {
		row := tokenRow{ID: t.ID, Name: t.Name, Created: timestamppb.New(t.CreatedAt), Expires: timestamppb.New(t.ExpiresAt), Expired: t.Expired(now)}
		if !t.LastUsedAt.IsZero() {
			row.LastUsed = timestamppb.New(t.LastUsedAt)
		}
		d.Tokens = append(d.Tokens, row)
	}
	return d, nil
}

const day = 24 * time.Hour

// tokensPage lists the signed-in person's tokens, with the form to make one.
func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.tokensData(r)
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "tokens/list", d)
}

// tokenCreate makes a token and shows its secret on the page that answers the form: the
// secret is never stored, nor put in the session to survive a redirect, so this page is the
// only place it ever appears (pages are never cached: Cache-Control no-store).
func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	u, _ := s.user(r)
	f := r.PostForm
	secret, tok, err := s.opts.Accounts.CreateToken(r.Context(), u.AccountID, f.Get(accounts.FieldTokenName), validity(f.Get(accounts.FieldTokenValidity)))
	switch {
	case errors.Is(err, accounts.ErrInvalidInput):
		d, lerr := s.tokensData(r)
		if lerr != nil {
			s.accountFailed(w, r, lerr)
			return
		}
		s.renderForm(w, r, http.StatusBadRequest, "tokens/list", d, f, s.accountErrors(r, err))
		return
	case errors.Is(err, accounts.ErrDisabled):
		s.renderError(w, r, http.StatusForbidden, "error.forbidden")
		return
	case err != nil:
		s.accountFailed(w, r, err)
		return
	}
	d, err := s.tokensData(r)
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	scheme := "http"
	if s.opts.Secure || r.TLS != nil {
		scheme = "https"
	}
	d.New = &newToken{Name: tok.Name, Secret: secret, Expires: timestamppb.New(tok.ExpiresAt), Base: scheme + "://" + r.Host}
	s.render(w, r, http.StatusCreated, "tokens/list", d)
}

// validity turns the days asked for into a lifetime: empty is the default (zero), and
// anything but a whole number of days from 1 to the maximum is refused by the accounts
// (a negative lifetime or one past the maximum).
func validity(days string) time.Duration {
	days = strings.TrimSpace(days)
	if days == "" {
		return 0
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 1 || n > int(accounts.MaxTokenTTL/day) {
		return -1
	}
	return time.Duration(n) * day
}

// tokenRevoke revokes one of the signed-in person's tokens; another person's is not found.
func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	u, _ := s.user(r)
	err := s.opts.Accounts.RevokeToken(r.Context(), u.AccountID, r.PathValue("id"))
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
	case err != nil:
		s.accountFailed(w, r, err)
	default:
		s.flash(r.Context(), "tokens.revoked")
		http.Redirect(w, r, "/akun/token", http.StatusSeeOther)
	}
}
