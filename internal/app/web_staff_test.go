package app

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestWebStaffAccountsAndSeats: the secretariat makes a committee account (the owner gets a
// code to set a password), links it to the seat whose member ID is the account's subject,
// and the committee member's web token then sits on the selection; unlinking takes the
// right away at the next page. Candidates and committee members cannot open these pages.
func TestWebStaffAccountsAndSeats(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	ctx := context.Background()
	const nip, sel = "197001011995031001", "sel-seats"
	now := time.Now().UTC()
	if _, err := api.store.CreateSelection(ctx, store.NewSelection{ID: sel, RequestID: "create-" + sel, WorkflowID: workflows.WorkflowID(sel),
		PositionTitle: "Kepala Badan", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB",
		Config: []byte(`{"positionTitle":"Kepala Badan","agency":"Pemkab Contoh","committee":[{"memberId":"` + nip + `","displayName":"Dr. Anggota","role":"COMMITTEE_ROLE_CHAIR"},{"memberId":"m-luar","displayName":"Prof. Luar","role":"COMMITTEE_ROLE_MEMBER"}]}`),
		Actor:  store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	admin := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-admin", Issuer: auth.LocalIssuer, Subject: "admin-1", Role: auth.RoleAdmin, Name: "Sekretariat"})}

	code, body, _ := admin.get("/sekretariat/akun")
	wantPage(t, "accounts page", code, body, http.StatusOK, `id="form-akun-baru"`, `<label for="role">`)
	code, body, _ = admin.post("/sekretariat/akun", url.Values{"role": {"committee"}, "full_name": {"Dr. Anggota"}, "nip": {"123"}, "email": {"anggota@example.go.id"}})
	wantPage(t, "invalid account", code, body, http.StatusBadRequest, "NIP terdiri atas 18 angka", `value="Dr. Anggota"`)
	code, body, _ = admin.post("/sekretariat/akun", url.Values{"role": {"candidate"}, "full_name": {"X"}, "email": {"x@example.go.id"}})
	wantPage(t, "candidate role refused", code, body, http.StatusBadRequest, "Pilih peran")
	code, _, loc := admin.post("/sekretariat/akun", url.Values{"role": {"committee"}, "full_name": {"Dr. Anggota"}, "nip": {nip}, "email": {"anggota@example.go.id"}})
	if code != http.StatusSeeOther || loc != "/sekretariat/akun" {
		t.Fatalf("create account = %d to %q", code, loc)
	}
	code, body, _ = admin.get("/sekretariat/akun")
	wantPage(t, "accounts after create", code, body, http.StatusOK, "Dr. Anggota", nip, "Menunggu kata sandi", "Akun telah dibuat")
	accountCode(t, api.store, "anggota@example.go.id", "account.set_password_code")

	code, body, _ = admin.get("/sekretariat/seleksi/" + sel + "/kursi")
	wantPage(t, "seats", code, body, http.StatusOK, "Dr. Anggota", "Belum ada akun dengan ID ini", `value="link"`)
	m := regexp.MustCompile(`name="account" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no account to link on the seats page")
	}
	account := m[1]
	member := web.User{AccountID: account, Issuer: auth.LocalIssuer, Subject: nip, Role: auth.RoleCommittee, Name: "Dr. Anggota"}
	minter := webMinter{key: mustKey(t), ttl: time.Minute, accounts: api.accounts}
	sitsOn := func() bool {
		tok, err := minter.Token(ctx, member)
		if err != nil {
			t.Fatal(err)
		}
		p, err := minter.key.Verifier(time.Now, 0).Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(p.Selections, sel)
	}
	if sitsOn() {
		t.Fatal("a committee account sits on a selection before its seat is linked")
	}
	// An account whose member ID the committee does not list gets no seat.
	stranger, err := api.accounts.Seed(ctx, accounts.NewAccount{Role: auth.RoleCommittee, FullName: "Bukan Anggota", NIP: "198001012005011009", Email: "bukan@example.go.id"}, "sandi-bukan-anggota")
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ = admin.post("/sekretariat/seleksi/"+sel+"/kursi", url.Values{"account": {stranger.ID}, "action": {"link"}})
	wantPage(t, "link of a non-member", code, body, http.StatusConflict, "tidak menduduki kursi panitia seleksi ini")
	if seats, err := api.accounts.SeatsOfSelection(ctx, sel); err != nil || len(seats) != 0 {
		t.Errorf("seats after refusing a non-member: %v %v", seats, err)
	}
	if code, _, _ = admin.post("/sekretariat/seleksi/"+sel+"/kursi", url.Values{"account": {account}, "action": {"link"}}); code != http.StatusSeeOther {
		t.Fatalf("link = %d", code)
	}
	code, body, _ = admin.get("/sekretariat/seleksi/" + sel + "/kursi")
	wantPage(t, "seats after link", code, body, http.StatusOK, "Terkait", `value="unlink"`)
	if !sitsOn() {
		t.Error("the linked committee account's web token does not sit on the selection")
	}
	if code, _, _ = admin.post("/sekretariat/seleksi/"+sel+"/kursi", url.Values{"account": {account}, "action": {"unlink"}}); code != http.StatusSeeOther {
		t.Fatalf("unlink = %d", code)
	}
	if sitsOn() {
		t.Error("an unlinked seat still gives rights")
	}

	for _, who := range []web.User{
		{AccountID: "acc-c", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon"},
		member,
	} {
		v := &visitor{t: t, base: api.base, c: signedIn(t, api, who)}
		if code, _, _ := v.get("/sekretariat/akun"); code != http.StatusForbidden {
			t.Errorf("%s opened the accounts page: %d", who.Role, code)
		}
	}
	anon := newVisitor(t, api)
	if code, _, loc := anon.get("/sekretariat/akun"); code != http.StatusSeeOther || loc != "/masuk?kembali=%2Fsekretariat%2Fakun" {
		t.Errorf("anonymous = %d to %q, want the sign-in page and back", code, loc)
	}
}

// mustKey is a fresh local signing key.
func mustKey(t *testing.T) *auth.LocalKey {
	t.Helper()
	k, err := auth.LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return k
}
