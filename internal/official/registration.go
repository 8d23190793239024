package official

import (
	"context"
	"fmt"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
)

// RegistrationProof is the proof of registration (bukti pendaftaran, issue 13): issued once
// per application, queued by the store in the transaction that takes the submission (the
// job's subject is the application ID). It states the participant number, the candidate's
// name, the selection and position, the submission time in the agency's zone, and every
// document received with its SHA-256 digest, so that the candidate can later show exactly
// what they sent.
func RegistrationProof() Kind {
	return Kind{Name: store.OfficialRegistrationProof, Code: "BUKTI", Build: buildRegistrationProof}
}

func buildRegistrationProof(ctx context.Context, src Source) (Built, error) {
	app, err := src.Store.GetApplication(ctx, src.Selection.ID, src.Job.Subject)
	if err != nil {
		return Built{}, fmt.Errorf("registration proof of application %q: %w", src.Job.Subject, err)
	}
	sel := src.Selection
	loc := ZoneLocation(sel.TimeZone)
	number := app.ParticipantNumber
	if number == "" {
		number = "-"
	}
	rows := make([][]string, 0, len(app.Documents))
	for _, d := range app.Documents {
		rows = append(rows, []string{d.Kind, d.FileName, d.SHA256})
	}
	submitted := app.SubmitTime.In(loc).Format("2006-01-02 15:04:05") + " " + zoneAbbrev(loc, app.SubmitTime)
	return Built{Content: Content{
		Title: T("Bukti Pendaftaran Seleksi Terbuka", "Proof of Registration"),
		Blocks: []Block{
			P("Dokumen ini membuktikan bahwa lamaran berikut telah diterima.", "This document proves that the application below was received."),
			F(
				KV("Nomor peserta", "Participant number", number),
				KV("Nama", "Name", app.Candidate.FullName),
				KV("Jabatan", "Position", sel.PositionTitle),
				KV("Unit kerja", "Unit", sel.PositionUnit),
				KV("Instansi", "Agency", sel.Agency),
				KV("Seleksi", "Selection", sel.ID),
				KV("Nomor lamaran", "Application", app.ID),
				KV("Diterima", "Received", submitted),
			),
			H("Dokumen yang diterima", "Documents received"),
			{Table: &Table{
				Columns: []Text{T("Jenis", "Kind"), T("Berkas", "File"), T("SHA-256", "SHA-256")},
				Widths:  []float64{1.2, 2, 4},
				Rows:    rows,
				Empty:   &Text{ID: "Seleksi ini tidak meminta dokumen.", EN: "This selection asked for no documents."},
			}},
			P("SHA-256 adalah sidik berkas: berkas yang sama selalu menghasilkan sidik yang sama.",
				"SHA-256 is a file's fingerprint: the same file always gives the same digest."),
		},
	}}, nil
}

// zoneAbbrev is WIB, WITA or WIT as Indonesians write times; the location's name otherwise.
func zoneAbbrev(loc *time.Location, t time.Time) string {
	name, _ := t.In(loc).Zone()
	return name
}
