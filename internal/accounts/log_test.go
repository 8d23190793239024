package accounts_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/notify"
)

// testLogSenderPrintsCode: on the embedded default, with no mail server, the log sender is
// how a developer reads a code: the dispatcher renders the notice (Indonesian and English)
// and the log shows it, without the address, the name or the NIP.
func testLogSenderPrintsCode(t *testing.T, e *env) {
	ctx := context.Background()
	const nip = "197506152000031001"
	a := e.register(t, "Calon Satu", nip, "calon@example.go.id")
	code := e.code(t, a.Email, accounts.MsgConfirmCode)
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	lg := slog.New(slog.NewTextHandler(out, nil))
	r, err := notify.NewDispatcher(e.st, notify.LogSender{Logger: lg}, cat, lg, notify.Options{Now: e.clock.Now}).DeliverOnce(ctx)
	if err != nil || r.Sent != 1 {
		t.Fatalf("deliver: %+v, %v", r, err)
	}
	logs := out.String()
	if !strings.Contains(logs, "Kode konfirmasi alamat e-mail akun Seleksi Anda: "+code) || !strings.Contains(logs, "The code to confirm") {
		t.Fatalf("the log does not show the code:\n%s", logs)
	}
	for _, s := range []string{a.Email, nip, "Calon Satu"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log sender shows %q:\n%s", s, logs)
		}
	}
	if len(e.notices(t, a.Email)) != 0 {
		t.Error("the notice is still pending after it was sent")
	}
	// The code still works after delivery.
	if _, err := e.svc.Confirm(ctx, a.Email, code); err != nil {
		t.Fatal(err)
	}
}
