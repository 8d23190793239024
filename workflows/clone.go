package workflows

import (
	"slices"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// clone deep-copies the state so that a command can build the next state without touching the
// current one (see selection.commit). It is written out by hand rather than through a JSON
// round trip: reflection-based encoding is outside what the determinism checker can vouch for,
// and a state of a few thousand applications is copied on every command. A new field of a
// reference type must be added here; TestCloneIsDeep guards it.
func (st *SelectionState) clone() *SelectionState {
	c := *st
	c.Applications = make([]Application, len(st.Applications))
	for i := range st.Applications {
		c.Applications[i] = st.Applications[i].clone()
	}
	c.Recusals = slices.Clone(st.Recusals)
	c.Answers = slices.Clone(st.Answers)
	if st.Holidays != nil {
		c.Holidays = make([]calendar.Year, len(st.Holidays))
		for i, y := range st.Holidays {
			y.Days = slices.Clone(y.Days)
			c.Holidays[i] = y
		}
	}
	c.Publications = slices.Clone(st.Publications)
	c.WindowsReminded = slices.Clone(st.WindowsReminded)
	for i := range c.Publications {
		c.Publications[i].RevisionMessage = cloneMessage(c.Publications[i].RevisionMessage)
	}
	c.Objections = make([]Objection, len(st.Objections))
	for i, o := range st.Objections {
		o.Correction = o.Correction.clone()
		o.Items = slices.Clone(o.Items)
		o.ItemAnswers = slices.Clone(o.ItemAnswers)
		c.Objections[i] = o
	}
	if st.Objections == nil {
		c.Objections = nil
	}
	if st.Decision != nil {
		d := *st.Decision
		d.Shortlist = slices.Clone(d.Shortlist)
		c.Decision = &d
	}
	if st.Appointment != nil {
		a := *st.Appointment
		c.Appointment = &a
	}
	if st.Cancellation != nil {
		x := *st.Cancellation
		x.ReasonMessage = cloneMessage(x.ReasonMessage)
		c.Cancellation = &x
	}
	if st.Blocked != nil {
		b := *st.Blocked
		if b.Problems != nil {
			b.Problems = make([]Message, len(st.Blocked.Problems))
			for i, m := range st.Blocked.Problems {
				b.Problems[i] = *cloneMessage(&m)
			}
		}
		c.Blocked = &b
	}
	return &c
}

func (a Application) clone() Application {
	a.Facts = a.Facts.clone()
	if a.Eligibility != nil {
		e := *a.Eligibility
		e.Findings = slices.Clone(e.Findings)
		for i := range e.Findings {
			e.Findings[i] = e.Findings[i].clone()
		}
		a.Eligibility = &e
	}
	if a.Screening != nil {
		v := *a.Screening
		a.Screening = &v
	}
	if a.Competency != nil {
		r := *a.Competency
		r.Scores = slices.Clone(r.Scores)
		a.Competency = &r
	}
	a.Interview = slices.Clone(a.Interview)
	a.Checklist = cloneItems(a.Checklist)
	a.Decided = slices.Clone(a.Decided)
	a.Outcomes = slices.Clone(a.Outcomes)
	for i := range a.Outcomes {
		a.Outcomes[i].ReasonMessage = cloneMessage(a.Outcomes[i].ReasonMessage)
	}
	a.ReasonMessage = cloneMessage(a.ReasonMessage)
	return a
}

func (f EligibilityFacts) clone() EligibilityFacts {
	if f.ExperienceMonths != nil {
		v := *f.ExperienceMonths
		f.ExperienceMonths = &v
	}
	if f.AdministratorMonths != nil {
		v := *f.AdministratorMonths
		f.AdministratorMonths = &v
	}
	f.Documents = slices.Clone(f.Documents)
	return f
}

func (r *ResultInput) clone() *ResultInput {
	if r == nil {
		return nil
	}
	c := *r
	c.Scores = slices.Clone(r.Scores)
	c.Items = slices.Clone(r.Items)
	return &c
}
