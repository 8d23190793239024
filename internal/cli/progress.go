package cli

import (
	"fmt"
	"io"
	"strings"
)

// progressWidth is the bar's width in characters; it fits an 80-column terminal with the
// counts beside it.
const progressWidth = 30

// progress shows how far an import has come. On a terminal it redraws one line in place;
// elsewhere (a pipe, a CI log) it stays silent until done prints a single line, because a
// carriage-return animation is noise in a file.
type progress struct {
	w           io.Writer
	interactive bool
	total       int
	drawn       bool
}

func newProgress(w io.Writer, interactive bool, total int) *progress {
	p := &progress{w: w, interactive: interactive, total: total}
	p.set(0)
	return p
}

func (p *progress) set(done int) {
	if !p.interactive || p.total == 0 {
		return
	}
	filled := done * progressWidth / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d rows %3d%%", strings.Repeat("#", filled), strings.Repeat("-", progressWidth-filled),
		done, p.total, done*100/p.total)
	p.drawn = true
}

// stop ends the bar's line so that an error message starts on a fresh one.
func (p *progress) stop() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *progress) done(summary string) {
	p.stop()
	fmt.Fprintf(p.w, "recorded %s\n", summary)
}
