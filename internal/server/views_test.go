package server

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
	"google.golang.org/protobuf/encoding/protojson"
)

// selectionOnly is a Store that knows one selection; the status view needs nothing else.
type selectionOnly struct {
	Store
	sel store.Selection
}

func (s selectionOnly) GetSelection(_ context.Context, id string) (store.Selection, error) {
	if id == "closed" {
		sel := s.sel
		sel.ID, sel.Stage = id, "STAGE_ADMINISTRATIVE_SCREENING"
		return sel, nil
	}
	return s.sel, nil
}

func (s selectionOnly) GetSelectionIntake(ctx context.Context, id string) (store.SelectionIntake, error) {
	sel, err := s.GetSelection(ctx, id)
	return store.SelectionIntake{Stage: sel.Stage, WindowCloses: sel.Window.Closes, TimeZone: sel.TimeZone}, err
}

// TestApplicationStatusText: the candidate's status is rendered from the stored code in both
// languages. Before the announcement closes an application is received and the screening
// starts after the close (it is not "being screened"); after a published result the status
// names the right to object and its deadline in local time; rows from before codes keep
// their texts.
func TestApplicationStatusText(t *testing.T) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	sel := store.Selection{ID: "dinkes-2026-01", TimeZone: "TIME_ZONE_WIB", Stage: store.StageAnnouncement,
		Window: store.Window{Closes: time.Date(2026, 7, 10, 17, 0, 0, 0, time.UTC)}}
	srv := NewApplicationServer(selectionOnly{sel: sel}, nil, cat, slog.New(slog.DiscardHandler), nil)
	tests := []struct {
		name   string
		app    store.Application
		id, en string
	}{
		{"received while the announcement is open",
			store.Application{SelectionID: sel.ID, ID: "app-1", State: store.StateSubmitted},
			"Lamaran Anda telah diterima. Seleksi administrasi dimulai setelah pengumuman ditutup pada 10 Juli 2026 pukul 23.59 WIB.",
			"Your application was received. Administrative screening starts after the announcement closes at 23:59 WIB on 10 July 2026."},
		{"being screened after the close",
			store.Application{SelectionID: sel.ID, ID: "app-1", State: store.StateSubmitted, Status: store.Text{Code: workflows.CodeStatusScreening}},
			"Lamaran Anda telah diterima dan sedang diperiksa dalam seleksi administrasi.",
			"Your application was received and is being screened."},
		{"being screened after the close, before the workflow wrote a status",
			store.Application{SelectionID: "closed", ID: "app-1", State: store.StateSubmitted},
			"Lamaran Anda telah diterima dan sedang diperiksa dalam seleksi administrasi.",
			"Your application was received and is being screened."},
		{"eliminated, with the right to object",
			store.Application{SelectionID: sel.ID, ID: "app-1", State: store.StateEliminated, Status: store.Text{
				Code: workflows.CodeStatusEliminated, Params: map[string]string{"stage": string(workflows.StageInterview), "reason": "",
					"deadline": "2026-07-23T17:00:00Z", "zone": "WIB"},
				Detail: &store.Text{Code: workflows.CodeReasonInterviewBelowMark, Params: map[string]string{"score": "6850", "mark": "7000"}}}},
			"Anda tidak lulus tahap wawancara. Alasan: nilai wawancara 68,50 di bawah nilai ambang 70,00. Anda berhak mengajukan sanggah atas hasil ini sampai 23 Juli 2026 pukul 23.59 WIB.",
			"You did not pass the interview. Reason: interview score 68.50 is below the pass mark 70.00. You may object to this result until 23:59 WIB on 23 July 2026."},
		{"a row from before codes",
			store.Application{SelectionID: sel.ID, ID: "app-1", State: "APPLICATION_STATE_WITHDRAWN", Status: store.Text{EN: "You withdrew your application.", ID: "Anda telah menarik lamaran."}},
			"Anda telah menarik lamaran.", "You withdrew your application."},
	}
	for _, tt := range tests {
		v, err := srv.view(context.Background(), tt.app)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := v.GetStatusText(); got.GetId() != tt.id || got.GetEn() != tt.en {
			t.Errorf("%s:\n got %q\n     %q\nwant %q\n     %q", tt.name, got.GetId(), got.GetEn(), tt.id, tt.en)
		}
		// store.GetApplication reads the selection's intake facts with the application; the
		// view made from them is the one made from a read of their own.
		in, err := srv.store.GetSelectionIntake(context.Background(), tt.app.SelectionID)
		if err != nil {
			t.Fatal(err)
		}
		withIntake := tt.app
		withIntake.Intake = &in
		joined, err := srv.view(context.Background(), withIntake)
		if err != nil {
			t.Fatalf("%s, intake read with the application: %v", tt.name, err)
		}
		a, _ := protojson.Marshal(v)
		b, _ := protojson.Marshal(joined)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: with the intake read with the application\n%s\nwant\n%s", tt.name, b, a)
		}
	}
}

// testCatalog is the catalog Seleksi ships, for servers under test to render codes with.
func testCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}
