package calendar

import "fmt"

// Error codes, stable for programs; the texts are for people.
const (
	CodeUnknownZone    = "UnknownTimeZone"
	CodeBadList        = "BadHolidayList"
	CodeBadDate        = "BadDate"
	CodeBadCount       = "BadWorkingDayCount"
	CodeTooLong        = "WindowTooLong"
	CodeYearNotCovered = "YearNotCovered"
)

// Error is a calendar problem explained in English (Error) and Indonesian (Indonesian),
// because committees and candidates read these messages.
type Error struct {
	Code string
	// Key is the message's code in Seleksi's catalog and Args its parameters (name, value
	// pairs), for the edges to render in the reader's language; EN and ID are the texts of
	// the Go error and of older records.
	Key  string
	Args []string
	EN   string
	ID   string
}

func (e *Error) Error() string { return e.EN }

// Indonesian is the message in Bahasa Indonesia.
func (e *Error) Indonesian() string { return e.ID }

// YearNotCoveredError reports a window that reaches into a year for which no holiday list was
// shipped or supplied. Such a window is refused rather than counted without holidays.
type YearNotCoveredError struct {
	Year int
}

func (e *YearNotCoveredError) Error() string {
	return fmt.Sprintf("no holiday list for %d: the national holidays and cuti bersama for %d are not known yet; "+
		"supply them with the selection or wait for the shipped list", e.Year, e.Year)
}

// Indonesian is the message in Bahasa Indonesia.
func (e *YearNotCoveredError) Indonesian() string {
	return fmt.Sprintf("daftar hari libur tahun %d belum ada: hari libur nasional dan cuti bersama %d belum diketahui; "+
		"lengkapi dalam data seleksi atau tunggu daftar resmi dimuat", e.Year, e.Year)
}
