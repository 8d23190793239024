package audit

import (
	"fmt"
	"testing"
	"time"
)

// Benchmarks of what an auditor's verification runs: the audit chain of a selection (1,000
// events) and of a mass selection (100,000), and the signed manifest's canonical encoding.
// They report; no test asserts their speed.

func benchChain(b *testing.B, n int) []AuditEvent {
	b.Helper()
	at := time.Date(2026, 7, 6, 2, 0, 0, 0, time.UTC)
	events := make([]AuditEvent, 0, n)
	for i := range n {
		payload := []byte(fmt.Sprintf(`{"actor":{"subject":"member3","role":"ROLE_COMMITTEE"},"applicationId":"app-%05d",`+
			`"stage":"STAGE_INTERVIEW","scores":[{"component":"SCORE_COMPONENT_INTERVIEW","score":%d}],"note":"wawancara <sesi %d>"}`, i, 6000+i%4000, i%7))
		d, err := PayloadDigest(payload)
		if err != nil {
			b.Fatal(err)
		}
		e := AuditEvent{SelectionID: "dinkes-2026-01", Seq: int64(i + 1), WorkflowID: "selection-dinkes-2026-01",
			UpdateID: fmt.Sprintf("req-%08d", i), CommandSeq: int64(i + 1), ActorSubject: "member3", Role: "ROLE_COMMITTEE",
			Action: "RecordResults", Target: fmt.Sprintf("selections/dinkes-2026-01/applications/app-%05d", i),
			WorkflowTime: at.Add(time.Duration(i) * time.Second), Payload: payload, PayloadSHA256: d}
		var prev *AuditEvent
		if i > 0 {
			prev = &events[i-1]
		}
		events = append(events, Link(prev, e))
	}
	return events
}

func BenchmarkCheckChain(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			events := benchChain(b, n)
			head := Head(events)
			b.ReportAllocs()
			for b.Loop() {
				if fs := CheckChain(events, &head); len(fs) != 0 {
					b.Fatal(fs)
				}
			}
		})
	}
}

// BenchmarkManifest is the signed encoding of a bundle's manifest: a short selection (one
// run) and a mass selection whose history continued as new 200 times.
func BenchmarkManifest(b *testing.B) {
	for _, runs := range []int{1, 200} {
		b.Run(fmt.Sprintf("runs=%d", runs), func(b *testing.B) {
			m := Manifest{Format: "seleksi-audit-bundle", Version: 3, SelectionID: "dinkes-2026-01", WorkflowID: "selection-dinkes-2026-01",
				CreatedAt: exportTime, AuditHead: ChainHead{Seq: 100000, Hash: chainVector}, KeyFingerprint: chainVector,
				CodeRevision: "github.com/bkpsdm/seleksi@v0.0.0 vcs 0b02a05"}
			for i := range runs {
				m.Parts = append(m.Parts, PartInfo{Name: fmt.Sprintf("history/%03d-run.json", i+1), MediaType: "application/json",
					Size: 1 << 20, SHA256: chainVector, Run: i + 1, RunID: fmt.Sprintf("0195f3a2-7c1e-7d4b-9a55-%012d", i)})
			}
			for _, p := range []string{"audit-events.jsonl", "snapshots.json", "projection.json", "documents.json"} {
				m.Parts = append(m.Parts, PartInfo{Name: p, MediaType: "application/json", Size: 4096, SHA256: chainVector})
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := canonicalManifest(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
