package web

import (
	"errors"
	"net/http"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// staffRoutes registers the secretariat's management of accounts and committee seats.
func (s *Server) staffRoutes(mux *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.require(h, auth.RoleAdmin) }
	mux.HandleFunc("GET /sekretariat/akun", admin(s.staffAccounts))
	mux.HandleFunc("POST /sekretariat/akun", admin(s.staffCreateAccount))
	mux.HandleFunc("POST /sekretariat/akun/{id}/status", admin(s.staffAccountStatus))
	mux.HandleFunc("GET /sekretariat/seleksi/{sel}/kursi", admin(s.staffSeats))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/kursi", admin(s.staffSeatsPost))
}

// staffAccountsData lists the accounts the secretariat manages.
type staffAccountsData struct {
	Accounts []accounts.Account
	Roles    []auth.Role
}

func (s *Server) staffAccountsPage(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	all, err := s.opts.Accounts.List(r.Context(), "")
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	staff := all[:0]
	for _, a := range all {
		if a.Role != auth.RoleCandidate {
			staff = append(staff, a)
		}
	}
	var form map[string][]string
	if errs != nil {
		form = r.PostForm
	}
	s.renderForm(w, r, status, "staff/accounts", staffAccountsData{Accounts: staff,
		Roles: []auth.Role{auth.RoleCommittee, auth.RoleAuditor, auth.RoleAdmin}}, form, errs)
}

// staffAccounts lists the committee, auditor and secretariat accounts, with a form to make
// one; the new account's owner sets a password with the code e-mailed to them.
func (s *Server) staffAccounts(w http.ResponseWriter, r *http.Request) {
	s.staffAccountsPage(w, r, http.StatusOK, nil)
}

func (s *Server) staffCreateAccount(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	role, err := auth.ParseRole(f.Get("role"))
	if err != nil || role == auth.RoleCandidate {
		s.staffAccountsPage(w, r, http.StatusBadRequest, s.textErr(r, "role", "staff.error.role"))
		return
	}
	_, err = s.opts.Accounts.Create(r.Context(), accounts.NewAccount{Role: role, FullName: f.Get("full_name"),
		NIP: strings.TrimSpace(f.Get("nip")), Email: f.Get("email"), Lang: s.lang(r)})
	if err != nil {
		if errs := s.accountErrors(r, err); len(errs) > 0 {
			s.staffAccountsPage(w, r, http.StatusBadRequest, errs)
			return
		}
		s.accountFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "staff.account_created")
	http.Redirect(w, r, "/sekretariat/akun", http.StatusSeeOther)
}

// staffAccountStatus disables or enables an account. A secretariat account cannot disable
// itself: the last one would lock the agency out.
func (s *Server) staffAccountStatus(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	id := r.PathValue("id")
	if u, _ := s.user(r); u.AccountID == id {
		s.renderError(w, r, http.StatusConflict, "staff.error.self")
		return
	}
	err := s.opts.Accounts.SetDisabled(r.Context(), id, r.PostForm.Get("disabled") == "true")
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
	case err != nil:
		s.accountFailed(w, r, err)
	default:
		s.flash(r.Context(), "staff.account_updated")
		http.Redirect(w, r, "/sekretariat/akun", http.StatusSeeOther)
	}
}

// seatRow is one seat of a selection's committee, with the committee account whose subject
// is the seat's member ID, if any, and whether it is linked.
type seatRow struct {
	Member  *seleksiv1.CommitteeMember
	Account *accounts.Account
	Linked  bool
}

type staffSeatsData struct {
	ID        string
	Selection *seleksiv1.Selection
	Seats     []seatRow
}

// staffSeats shows a selection's committee seats and the accounts linked to them. A
// committee member acts on the selection only through a linked account: rights come from
// this link, not from anything the member's token says.
func (s *Server) staffSeats(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	_, resp, ok := s.loadSelection(w, r, id)
	if !ok {
		return
	}
	all, err := s.opts.Accounts.List(r.Context(), auth.RoleCommittee)
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	seats, err := s.opts.Accounts.SeatsOfSelection(r.Context(), id)
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	linked := map[string]bool{}
	for _, st := range seats {
		linked[st.AccountID] = true
	}
	d := staffSeatsData{ID: id, Selection: resp}
	for _, m := range resp.GetCommittee() {
		row := seatRow{Member: m}
		for i := range all {
			if all[i].Subject == m.GetMemberId() {
				row.Account = &all[i]
				row.Linked = linked[all[i].ID]
			}
		}
		d.Seats = append(d.Seats, row)
	}
	s.render(w, r, http.StatusOK, "staff/seats", d)
}

// staffSeatsPost links or unlinks an account and a seat.
func (s *Server) staffSeatsPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	id, account := r.PathValue("sel"), r.PostForm.Get("account")
	var err error
	if r.PostForm.Get("action") == "unlink" {
		err = s.opts.Accounts.UnlinkSeat(r.Context(), id, account)
	} else {
		// A link gives the account the committee's rights on the selection: only an account
		// whose subject is one of the selection's committee member IDs may have one.
		ok, cerr := s.onCommittee(r, id, account)
		switch {
		case cerr != nil:
			s.apiFailed(w, r, cerr)
			return
		case !ok:
			s.renderErrorText(w, r, http.StatusConflict, "error.refused", view{p: s.pages, Lang: s.lang(r)}.T("staff.error.not_member"))
			return
		}
		_, err = s.opts.Accounts.LinkSeat(r.Context(), id, account)
	}
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
	case errors.Is(err, accounts.ErrInvalidInput):
		s.renderErrorText(w, r, http.StatusConflict, "error.refused", s.accountErrors(r, err)["account"])
	case err != nil:
		s.accountFailed(w, r, err)
	default:
		s.flash(r.Context(), "staff.seats_updated")
		http.Redirect(w, r, "/sekretariat/seleksi/"+id+"/kursi", http.StatusSeeOther)
	}
}

// onCommittee reports whether account's subject is a committee member ID of the selection.
func (s *Server) onCommittee(r *http.Request, selectionID, accountID string) (bool, error) {
	a, err := s.opts.Accounts.Get(r.Context(), accountID)
	if errors.Is(err, accounts.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ctx, err := s.call(r)
	if err != nil {
		return false, err
	}
	sel, err := s.getSelection(ctx, selectionID)
	if err != nil {
		return false, err
	}
	for _, m := range sel.GetCommittee() {
		if m.GetMemberId() == a.Subject {
			return true, nil
		}
	}
	return false, nil
}
