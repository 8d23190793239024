package auditchain

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Benchmarks of the chain hash and the canonical JSON that every audited command, every
// snapshot row and every bundle verification runs. They report; no test asserts their speed.

func benchLink(i int64, prev string) Link {
	return Link{PrevHash: prev, SelectionID: "dinkes-2026-01", Seq: i, WorkflowID: "selection-dinkes-2026-01",
		UpdateID: fmt.Sprintf("req-%08d", i), CommandSeq: i, ActorSubject: "member3", Role: "ROLE_COMMITTEE",
		Action: "RecordResults", Target: "selections/dinkes-2026-01/applications/app-0001", Reason: "hasil tes kompetensi",
		WorkflowTime:  time.Date(2026, 11, 30, 19, 1, 26, 253497386, time.UTC).Add(time.Duration(i) * time.Second),
		PayloadSHA256: "74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b"}
}

func BenchmarkHash(b *testing.B) {
	l := benchLink(3, "1167cf79a9dc4784accb5869cdcb6e83d2010ad7b70a081f430b33b6a9378103")
	b.ReportAllocs()
	for b.Loop() {
		_ = Hash(l)
	}
}

// BenchmarkHashChain links a whole chain, each hash covering the one before, as a bundle
// verification recomputes it: a selection's 1,000 events and a mass selection's 100,000.
func BenchmarkHashChain(b *testing.B) {
	for _, n := range []int64{1000, 100000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			links := make([]Link, n)
			for i := range links {
				links[i] = benchLink(int64(i+1), "")
			}
			b.ReportAllocs()
			for b.Loop() {
				prev := ""
				for i := range links {
					links[i].PrevHash = prev
					prev = Hash(links[i])
				}
			}
		})
	}
}

// Documents of the sizes the audit log meets: a command's arguments, one application row of
// the close snapshot, and the results sheet of 1,000 candidates an assessment center hands
// over at once.
func benchDocs() []struct {
	name string
	doc  []byte
} {
	small := []byte(`{"actor":{"subject":"member3","role":"ROLE_COMMITTEE","name":"Dr. Anggota Tiga"},` +
		`"applicationId":"app-0001","reason":"mantan bawahan langsung <2019-2022> & rekan satu unit","stage":"STAGE_INTERVIEW"}`)
	row := map[string]any{
		"id": "app-00042", "owner": "cand-00042", "requestId": "req-5f0c2b9a-1d7e-4c43-9a55-2f3e8b1c0d42",
		"submittedAt": "2026-07-08T03:14:15.926535Z",
		"candidate":   map[string]any{"nip": "198001012005011001", "name": "Siti Nurhaliza, S.K.M., M.Kes.", "birthDate": "1980-01-01", "email": "siti@example.go.id"},
		"profile": map[string]any{"education": "EDUCATION_MASTER", "experienceMonths": 240, "administratorMonths": 96,
			"currentPost": "Kepala Bidang Pelayanan Kesehatan", "unit": "Dinas Kesehatan Kota Contoh",
			"training": []any{"PIM II (2019)", "Diklat Kepemimpinan Nasional Tingkat II", "Manajemen Krisis Kesehatan"}},
		"documents":       []any{"LHKPN", "SURAT_SEHAT", "SKCK", "IJAZAH_S2", "SK_JABATAN"},
		"storedDocuments": []any{},
		"statement":       strings.Repeat("Saya berkomitmen meningkatkan layanan kesehatan primer di seluruh puskesmas. ", 8),
		"facts":           map[string]any{"education": "EDUCATION_MASTER", "experienceMonths": 240, "ageAtClose": 46, "disciplinaryRecord": false},
	}
	for i := range 5 {
		row["storedDocuments"] = append(row["storedDocuments"].([]any), map[string]any{"id": fmt.Sprintf("doc-%d", i),
			"kind": "LHKPN", "mediaType": "application/pdf", "sizeBytes": 482113 + i, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})
	}
	rowDoc, err := json.Marshal(row)
	if err != nil {
		panic(err)
	}
	var sheet strings.Builder
	sheet.WriteString(`{"actor":{"subject":"secretary","role":"ROLE_COMMITTEE"},"stage":"STAGE_COMPETENCY_TEST","results":[`)
	for i := range 1000 {
		if i > 0 {
			sheet.WriteByte(',')
		}
		fmt.Fprintf(&sheet, `{"applicationId":"app-%05d","outcome":"OUTCOME_NONE","scores":[{"component":"SCORE_COMPONENT_WRITTEN_TEST","score":%d},`+
			`{"component":"SCORE_COMPONENT_COMPETENCY_TEST","score":%d},{"component":"SCORE_COMPONENT_PAPER","score":%d}],`+
			`"category":"COMPETENCY_CATEGORY_MEETS","managerial":%d.5,"trackRecordNote":"Rekam jejak baik; tidak ada catatan disiplin."}`,
			i, 6000+i%4000, 9000-i%3000, 7000+i%2000, 70+i%30)
	}
	sheet.WriteString(`],"reason":""}`)
	return []struct {
		name string
		doc  []byte
	}{{"small", small}, {"snapshot-row", rowDoc}, {"sheet-1000", []byte(sheet.String())}}
}

func BenchmarkCanonicalJSON(b *testing.B) {
	for _, d := range benchDocs() {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(d.doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CanonicalJSON(json.RawMessage(d.doc)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCanonicalJSONValue is the store's path: a Go value, marshalled and then made
// canonical.
func BenchmarkCanonicalJSONValue(b *testing.B) {
	for _, d := range benchDocs() {
		var v any
		if err := json.Unmarshal(d.doc, &v); err != nil {
			b.Fatal(err)
		}
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(d.doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CanonicalJSON(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
