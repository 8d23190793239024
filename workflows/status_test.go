package workflows

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// renderStatus renders a recorded status the way the API and notifications do.
func renderStatus(t *testing.T, m *Message) i18n.Text {
	t.Helper()
	if m == nil {
		t.Fatal("no status")
	}
	c, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var conv func(m Message) i18n.Msg
	conv = func(m Message) i18n.Msg {
		out := i18n.Msg{Code: m.Code, EN: m.EN, ID: m.ID}
		if len(m.Params) > 0 {
			out.Params = m.Params.Map()
		}
		if m.Detail != nil {
			d := conv(*m.Detail)
			out.Detail = &d
		}
		return out
	}
	return c.Text(conv(*m))
}

// statusIn is the status the store was sent for app in rec.
func statusIn(t *testing.T, rec CommandRecord, app string) *Message {
	t.Helper()
	for _, ch := range rec.Applications {
		if ch.ApplicationID == app {
			return ch.Status
		}
	}
	t.Fatalf("%s: no change for %s", rec.Kind, app)
	return nil
}

// TestCandidateStatus: after each published result the candidate is told the result, the
// right to object and until when (local date and time); a shortlisted candidate the official
// did not appoint reads a sentence that says so; the Indonesian text holds no English.
func TestCandidateStatus(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	scriptHappy(t, h)
	h.run(testInput(t))
	advances := store.find(CmdAdvance)
	if len(advances) != 3 {
		t.Fatalf("%d advances", len(advances))
	}
	english := regexp.MustCompile(`(?i)\b(the|is|and|of|not|was|you|your|application|found|below|assessment)\b`)
	tests := []struct {
		name   string
		status *Message
		id, en string
	}{
		{"passed screening", statusIn(t, advances[0], appID(1)),
			"Anda lulus tahap seleksi administrasi. Anda berhak mengajukan sanggah atas hasil ini sampai 15 Juli 2026 pukul 23.59 WIB.",
			"You passed administrative screening. You may object to this result until 23:59 WIB on 15 July 2026."},
		{"failed screening", statusIn(t, advances[0], appID(5)),
			"Anda tidak lulus tahap seleksi administrasi. Alasan: Usia melebihi 56 tahun / over the age limit. Anda berhak mengajukan sanggah atas hasil ini sampai 15 Juli 2026 pukul 23.59 WIB.",
			"You did not pass administrative screening. Reason: Usia melebihi 56 tahun / over the age limit. You may object to this result until 23:59 WIB on 15 July 2026."},
		{"failed competency on the category", statusIn(t, advances[1], appID(4)),
			"Anda tidak lulus tahap uji kompetensi. Alasan: hasil penilaian kompetensi: kompetensi belum memenuhi standar. Anda berhak mengajukan sanggah atas hasil ini sampai 20 Juli 2026 pukul 23.59 WIB.",
			"You did not pass the competency test. Reason: the assessment center found the competency does not meet the standard. You may object to this result until 23:59 WIB on 20 July 2026."},
		{"rank 1 not appointed", statusIn(t, store.find(CmdAppoint)[0], appID(2)),
			"Anda diusulkan pada peringkat 1, tetapi Pejabat Pembina Kepegawaian memilih calon lain untuk diangkat. Seleksi telah selesai.",
			"You were proposed at rank 1, but the appointing official chose another candidate. The selection is closed."},
		{"appointed", statusIn(t, store.find(CmdAppoint)[0], appID(1)), "Anda terpilih untuk diangkat.", "You were chosen for appointment."},
	}
	for _, tt := range tests {
		got := renderStatus(t, tt.status)
		if got.ID != tt.id || got.EN != tt.en {
			t.Errorf("%s:\n got %q\n     %q\nwant %q\n     %q", tt.name, got.ID, got.EN, tt.id, tt.en)
		}
		// People's words (the committee's reason) are theirs; the rest must be Indonesian.
		own := strings.ReplaceAll(got.ID, "Usia melebihi 56 tahun / over the age limit", "")
		if w := english.FindString(own); w != "" {
			t.Errorf("%s: English %q in the Indonesian status %q", tt.name, w, got.ID)
		}
	}
}

// TestStatusTellsAcceptedObjection: the candidate whose objection was accepted is told so.
func TestStatusTellsAcceptedObjection(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	screening := StageAdministrativeScreening
	h.sendAt(wib(t, "2026-07-13 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Results: []ResultInput{
			{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
			{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomePass},
			{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "Usia melebihi batas."},
		}})
	h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	h.sendAt(wib(t, "2026-07-14 09:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: screening,
		Reason: "Saya lahir tahun 1970."})
	accept := h.sendAt(wib(t, "2026-07-14 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionID(screening, appID(5)), Accept: true, Answer: "Sesuai akta kelahiran.",
		Correction: &ResultInput{Outcome: OutcomePass, Reason: "Usia 56 tahun pada penutupan."}})
	h.sendAt(wib(t, "2026-07-17 12:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "Uji selesai."})
	h.run(testInput(t))
	mustAccept(t, accept)
	answers := store.find(CmdAnswerObjection)
	if len(answers) != 1 {
		t.Fatalf("%d answers", len(answers))
	}
	got := renderStatus(t, statusIn(t, answers[0], appID(5)))
	wantID := "Anda lulus tahap seleksi administrasi. Sanggah Anda atas hasil tahap seleksi administrasi diterima dan hasilnya telah diperbaiki. Anda berhak mengajukan sanggah atas hasil ini sampai 15 Juli 2026 pukul 23.59 WIB."
	if got.ID != wantID || !strings.Contains(got.EN, "objection against the result of administrative screening was accepted") {
		t.Errorf("status after the accepted objection:\n got %q\n     %q\nwant %q", got.ID, got.EN, wantID)
	}
	if !slices.ContainsFunc(answers[0].Applications, func(c ApplicationChange) bool { return c.ApplicationID == appID(5) && c.State == AppInProgress }) {
		t.Errorf("changes %+v", answers[0].Applications)
	}
}

// TestRecordsCarryCodes: what a selection started with message codes sends to the store
// and hands over at its end holds message codes with parameters and no rendered text, so
// that a wording fix in the catalog changes no history, state or stored row.
func TestRecordsCarryCodes(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	scriptHappy(t, h)
	var final *SelectionState
	h.at(wib(t, "2026-07-29 08:00"), func() { final = h.state() })
	h.run(testInput(t))
	if !final.MessageCodes {
		t.Fatal("a new selection does not record message codes")
	}
	var walk func(path string, v any)
	messages := 0
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["code"]; ok {
				messages++
				if v["en"] != nil || v["id"] != nil {
					t.Errorf("%s: rendered text in %v", path, v)
				}
			}
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path, x)
			}
		}
	}
	for _, rec := range store.records {
		walk(rec.Kind, roundTrip(t, rec))
	}
	walk("state", roundTrip(t, final))
	walk("result", roundTrip(t, h.result()))
	if messages < 20 {
		t.Errorf("only %d messages found", messages)
	}
	// The reasons the system gives are codes; Reason strings hold only people's words.
	a4 := final.Applications[3]
	if a4.Reason != "" || a4.ReasonMessage == nil || a4.ReasonMessage.Code != CodeReasonCompetencyDoesNotMeet {
		t.Errorf("app-0004 reason %q %+v: %+v", a4.Reason, a4.ReasonMessage, a4)
	}
}

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
