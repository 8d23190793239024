package server

import (
	"context"
	"fmt"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// A blocked selection carries codes and parameters (workflows.Blocked, projected by the
// store); people read what they mean and what to do here, in their language.

// blockedTexts are the message and the remedy of a blocked reason code.
func blockedTexts(b *store.Blocked) (message, remedy i18n.Text) {
	switch workflows.BlockedReason(b.Reason) {
	case workflows.BlockedStoreUnavailable:
		return i18n.Text{ID: "basis data tidak menjawab; langkah berikutnya dicoba ulang secara otomatis",
				EN: "the database did not answer; the next step is retried automatically"},
			i18n.Text{ID: "jika gangguan berlanjut, operator memulihkan basis data; seleksi berlanjut dengan sendirinya atau segera setelah sekretariat memintanya dilanjutkan",
				EN: "if the outage persists, operators restore the database; the selection goes on by itself, or at once when the secretariat resumes it"}
	case workflows.BlockedStoreRejectedData:
		return i18n.Text{ID: "basis data menolak data langkah berikutnya",
				EN: "the database refused the data of the next step"},
			i18n.Text{ID: "operator memeriksa catatan kesalahan sistem dan memperbaiki penyebabnya, lalu sekretariat meminta seleksi dilanjutkan",
				EN: "operators read the ERROR log lines and fix the cause, then the secretariat resumes the selection"}
	case workflows.BlockedStoreInconsistent:
		return i18n.Text{ID: "catatan yang diperlukan langkah berikutnya tidak ada atau tidak sesuai di basis data",
				EN: "a record the next step needs is missing from the database or does not match"},
			i18n.Text{ID: "operator memulihkan catatan tersebut (misalnya dari cadangan), lalu sekretariat meminta seleksi dilanjutkan",
				EN: "operators restore the record (from a backup, for example), then the secretariat resumes the selection"}
	case workflows.BlockedCalendarNotCovered:
		return i18n.Text{ID: fmt.Sprintf("jangka waktu tahapan mencapai tahun %d yang belum memiliki daftar hari libur", b.Year),
				EN: fmt.Sprintf("a window reaches into %d, which has no holiday list yet", b.Year)},
			i18n.Text{ID: fmt.Sprintf("sekretariat melengkapi daftar hari libur tahun %d; seleksi berlanjut dengan sendirinya", b.Year),
				EN: fmt.Sprintf("the secretariat supplies the holiday list of %d; the selection then goes on by itself", b.Year)}
	}
	return i18n.Text{ID: "langkah berikutnya gagal dijalankan", EN: "the next step failed"},
		i18n.Text{ID: "operator memeriksa catatan kesalahan sistem dan memperbaiki penyebabnya, lalu sekretariat meminta seleksi dilanjutkan",
			EN: "operators read the ERROR log lines and fix the cause, then the secretariat resumes the selection"}
}

// blockedView renders a selection's blocked state in the caller's language; nil when it is
// not blocked.
func blockedView(ctx context.Context, b *store.Blocked) *seleksiv1.SelectionBlocked {
	if b == nil {
		return nil
	}
	lang := language(ctx)
	message, remedy := blockedTexts(b)
	return &seleksiv1.SelectionBlocked{
		Reason: b.Reason, Message: message.In(lang), Remedy: remedy.In(lang), Step: b.Step, Year: uint32(max(b.Year, 0)),
		SinceTime: ts(b.Since), Attempts: uint32(max(b.Attempts, 0)), NextAttemptTime: ts(b.NextAttempt),
	}
}

// ResumeSelection asks a blocked selection to retry its step now.
func (s *SelectionServer) ResumeSelection(ctx context.Context, req *seleksiv1.ResumeSelectionRequest) (*seleksiv1.ResumeSelectionResponse, error) {
	id := segment(req.GetName(), 0)
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateResume, workflows.ResumeArgs{
		Actor: actorOf(principal(ctx)), Reason: req.GetReason()}); err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	return &seleksiv1.ResumeSelectionResponse{Selection: sel}, nil
}
