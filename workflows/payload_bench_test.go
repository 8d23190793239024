package workflows

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkCloseSnapshotSize measures what closing the announcement of a mass selection puts
// into Temporal payloads, which the server refuses above 2 MB (and warns about above 512 KB):
// the snapshot the SnapshotApplications activity returns, and the applications the workflow
// state then holds during screening (which a continue-as-new input carries), with the
// whole-application check and with the checklist. The metrics are bytes per application
// and in all; the timing is only that of encoding them.
func BenchmarkCloseSnapshotSize(b *testing.B) {
	req := Requirements{MinEducation: EducationBachelor, MinExperienceMonths: 60, MinAdministratorMonths: 24, MaxAge: 56,
		RequiredDocuments: []string{"LHKPN", "SURAT_SEHAT", "SKCK", "IJAZAH", "SK_JABATAN", "PAKTA_INTEGRITAS"}}
	for _, n := range []int{5000, 8000} {
		snap := realisticSnapshot(n)
		b.Run(fmt.Sprintf("applications=%d", n), func(b *testing.B) {
			var snapBytes, stateBytes, checklistBytes int
			for b.Loop() {
				raw, err := json.Marshal(snap)
				if err != nil {
					b.Fatal(err)
				}
				snapBytes = len(raw)
				apps := applicationsFrom(snap)
				withChecklist := applicationsFrom(snap)
				for i := range apps {
					e := checkEligibility(req, apps[i].Facts)
					apps[i].Eligibility = &e
					withChecklist[i].Checklist = prefill(req, withChecklist[i].Facts)
				}
				st, err := json.Marshal(apps)
				if err != nil {
					b.Fatal(err)
				}
				stateBytes = len(st)
				cl, err := json.Marshal(withChecklist)
				if err != nil {
					b.Fatal(err)
				}
				checklistBytes = len(cl)
			}
			b.ReportMetric(float64(snapBytes)/float64(n), "snapshot-B/app")
			b.ReportMetric(float64(snapBytes), "snapshot-B")
			b.ReportMetric(float64(stateBytes)/float64(n), "state-B/app")
			b.ReportMetric(float64(checklistBytes)/float64(n), "checklist-state-B/app")
		})
	}
}

// realisticSnapshot is n applications as the store returns them: IDs and subjects as the
// store and the identity provider make them, instants with nanoseconds, every fact known.
func realisticSnapshot(n int) Snapshot {
	r := rand.New(rand.NewPCG(uint64(n), 8))
	t0 := time.Date(2026, 7, 6, 1, 0, 0, 0, time.UTC)
	snap := Snapshot{Digest: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
	for range n {
		exp, adm := 60+r.IntN(300), 24+r.IntN(120)
		snap.Applications = append(snap.Applications, SnapshotApplication{
			ID:          fmt.Sprintf("app-%020x", r.Uint64()),
			Candidate:   fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff),
			SubmittedAt: t0.Add(time.Duration(r.Int64N(int64(5 * 24 * time.Hour)))),
			Facts: EligibilityFacts{Education: EducationMaster, ExperienceMonths: &exp, AdministratorMonths: &adm, AgeAtClose: 35 + r.IntN(25),
				Documents: []string{"LHKPN", "SURAT_SEHAT", "SKCK", "IJAZAH", "SK_JABATAN", "PAKTA_INTEGRITAS"}},
		})
	}
	return snap
}
