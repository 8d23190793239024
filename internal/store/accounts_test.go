package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// testAccountRows covers what the store itself guarantees for accounts (internal/accounts
// tests the rules on top): unique values per issuer, a code and its notice written together,
// the notice leaving through the outbox although it belongs to no selection, attempts
// counted before the comparison, and seats only on selections that exist.
func testAccountRows(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-acc")
	acc := AccountRecord{ID: "acc_1", Issuer: "seleksi-local", Subject: "198001012005011001", Role: "candidate",
		FullName: "Calon Satu", NIP: "198001012005011001", Email: "satu@example.go.id", Lang: "id", CreatedAt: t0}
	notice := &AccountNotice{Email: acc.Email, Message: Text{Code: "account.confirm_code", Params: map[string]string{"code": "123456"}}}
	got, err := s.CreateAccount(ctx, acc, &AccountCode{Purpose: CodeConfirmEmail, Salt: "s", Hash: "h", ExpiresAt: t0.Add(time.Hour), Notice: notice})
	if err != nil || got.ID != acc.ID || !got.CreatedAt.Equal(t0) {
		t.Fatalf("create: %+v, %v", got, err)
	}
	dup := acc
	dup.ID, dup.Subject, dup.NIP = "acc_2", "akun-2", ""
	if _, err := s.CreateAccount(ctx, dup, nil); !errors.Is(err, ErrAccountEmailTaken) || !errors.Is(err, ErrConflict) {
		t.Fatalf("same e-mail: %v", err)
	}
	// A NIP is unique among the accounts that claim it (confirmed, or staff): an unconfirmed
	// candidate's does not block another registration, a staff account's does.
	staff := acc
	staff.ID, staff.Email, staff.Subject, staff.Role, staff.NIP = "acc_s", "staf@example.go.id", "akun-s", "committee", "198001012005011009"
	if _, err := s.CreateAccount(ctx, staff, nil); err != nil {
		t.Fatal(err)
	}
	dup.Email, dup.NIP, dup.Subject = "dua@example.go.id", staff.NIP, "akun-3"
	if _, err := s.CreateAccount(ctx, dup, nil); !errors.Is(err, ErrAccountNIPTaken) {
		t.Fatalf("a staff account's NIP: %v", err)
	}
	dup.NIP = acc.NIP
	if _, err := s.CreateAccount(ctx, dup, nil); err != nil {
		t.Fatalf("an unconfirmed candidate's NIP: %v", err)
	}
	// Another issuer may know the same address.
	ext := acc
	ext.ID, ext.Issuer = "acc_ext", "https://idp.example.go.id"
	if _, err := s.CreateAccount(ctx, ext, nil); err != nil {
		t.Fatalf("same values, other issuer: %v", err)
	}

	// What the API lists shows that a code was sent, not the code.
	page, err := s.ListNotifications(ctx, ListOptions{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Text.Params["code"] != "******" {
		t.Fatalf("listed notices: %+v, %v", page.Items, err)
	}
	if one, err := s.GetNotification(ctx, page.Items[0].ID); err != nil || one.Text.Params["code"] != "******" {
		t.Fatalf("get notice: %+v, %v", one, err)
	}
	claimed, err := s.ClaimNotifications(ctx, Claim{Owner: "d", Limit: 10, MaxAttempts: 3, Now: t0.Add(time.Minute), Lease: time.Minute})
	if err != nil || len(claimed.Due) != 1 {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	n := claimed.Due[0]
	if n.SelectionID != "" || n.Recipient != acc.ID || n.Email != acc.Email || n.Kind != AccountKind || n.Text.Params["code"] != "123456" {
		t.Fatalf("notice = %+v", n)
	}

	// Two wrong attempts, then the right one; after that the code is spent.
	use := CodeUse{AccountID: acc.ID, Purpose: CodeConfirmEmail, Now: t0.Add(time.Minute), MaxAttempts: 3, ConfirmEmail: true}
	wrong := use
	wrong.Matches = func(salt, hash string) bool { return false }
	right := use
	right.Matches = func(salt, hash string) bool { return salt == "s" && hash == "h" }
	for range 2 {
		if _, err := s.UseAccountCode(ctx, wrong); !errors.Is(err, ErrCodeInvalid) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	if n := count(t, s, "account_codes", "account_id = ? AND attempts = 2", acc.ID); n != 1 {
		t.Fatalf("attempts not counted")
	}
	got, err = s.UseAccountCode(ctx, right)
	if err != nil || !got.EmailConfirmed {
		t.Fatalf("right code: %+v, %v", got, err)
	}
	if _, err := s.UseAccountCode(ctx, right); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("code used twice: %v", err)
	}

	// At most maxIssued codes per window.
	for i := range 3 {
		ok, err := s.IssueAccountCode(ctx, AccountCode{AccountID: acc.ID, Purpose: CodeResetPassword, Salt: "s", Hash: "h",
			ExpiresAt: t0.Add(time.Hour)}, t0.Add(time.Duration(i)*time.Minute), CodeLimit{Max: 2, Window: time.Hour})
		if err != nil || ok != (i < 2) {
			t.Fatalf("issue %d: %v, %v", i, ok, err)
		}
	}
	if n := count(t, s, "account_codes", "account_id = ? AND purpose = ? AND used_at IS NULL", acc.ID, CodeResetPassword); n != 1 {
		t.Fatalf("%d live reset codes, want 1 (a new code retires the older)", n)
	}

	seat, err := s.LinkSeat(ctx, CommitteeSeat{SelectionID: "sel-acc", AccountID: acc.ID, MemberSubject: acc.Subject, LinkedAt: t0})
	if err != nil || seat.MemberSubject != acc.Subject {
		t.Fatalf("link: %+v, %v", seat, err)
	}
	if _, err := s.LinkSeat(ctx, CommitteeSeat{SelectionID: "sel-none", AccountID: acc.ID, LinkedAt: t0}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link to a missing selection: %v", err)
	}
	if err := s.UnlinkSeat(ctx, "sel-acc", acc.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlinkSeat(ctx, "sel-acc", acc.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unlink twice: %v", err)
	}
}

// testAccountsMigrationDown: migration 00018 can be rolled back (account notices, which
// belong to no selection, go with it) and applied again.
func testAccountsMigrationDown(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-down")
	acc := AccountRecord{ID: "acc_1", Issuer: "seleksi-local", Subject: "akun-1", Role: "committee", Email: "a@example.go.id", CreatedAt: t0}
	if _, err := s.CreateAccount(ctx, acc, &AccountCode{Purpose: CodeResetPassword, Salt: "s", Hash: "h", ExpiresAt: t0.Add(time.Hour),
		Notice: &AccountNotice{Email: acc.Email, Message: Text{Code: "account.set_password_code"}}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.migrationProvider(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 16); err != nil {
		t.Fatalf("down: %v", err)
	}
	if n := count(t, s, "notifications", "1 = 1"); n != 0 {
		t.Fatalf("%d notifications left after down", n)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if n := count(t, s, "accounts", "1 = 1"); n != 0 {
		t.Fatalf("%d accounts after down and up", n)
	}
}
