package flows

import "fmt"

// selectionBody is the selection the secretariat announces for p: five members, two
// internal; an announcement long enough for p's intake, then one working day of objections
// after each published result; and the holidays of 2027, which the service does not ship
// and which a selection on a compressed clock reaches within a minute.
func selectionBody(p plan) map[string]any {
	var members []map[string]any
	for i, m := range committeeIDs {
		mem := map[string]any{"memberId": m, "displayName": "Anggota " + m, "kind": "MEMBER_KIND_EXTERNAL",
			"role": "COMMITTEE_ROLE_MEMBER", "affiliation": "Universitas Contoh"}
		switch i {
		case 0:
			mem["role"] = "COMMITTEE_ROLE_CHAIR"
		case 1:
			mem["role"], mem["kind"], mem["postLevel"] = "COMMITTEE_ROLE_SECRETARY", "MEMBER_KIND_INTERNAL", "POST_LEVEL_JPT_MADYA"
		case 3:
			mem["kind"], mem["postLevel"] = "MEMBER_KIND_INTERNAL", "POST_LEVEL_JPT_PRATAMA"
		}
		members = append(members, mem)
	}
	docs := []map[string]any{}
	if p.documents {
		for _, d := range requiredDocuments {
			docs = append(docs, map[string]any{"id": d, "title": d})
		}
	}
	return map[string]any{
		"positionTitle":        "Kepala Dinas Kesehatan",
		"positionUnit":         "Dinas Kesehatan",
		"agency":               "Pemerintah Kota Contoh",
		"timeZone":             "TIME_ZONE_WIB",
		"oversightApprovalRef": "B-1234/KASN/2026",
		"committee":            members,
		"requirements": map[string]any{
			"minEducation": "EDUCATION_LEVEL_BACHELOR", "minYearsExperience": 5, "minYearsAdministratorPost": 2, "maxAgeYears": 56,
			"requiredDocuments": docs,
		},
		"announcementWorkingDays":      p.announcementDays(),
		"extensionWorkingDays":         0,
		"maxExtensions":                0,
		"minApplicants":                1,
		"insufficientApplicantsPolicy": "INSUFFICIENT_APPLICANTS_POLICY_CONTINUE",
		"objectionWindowWorkingDays":   1,
		"scoreWeights":                 map[string]any{"writtenTest": 15, "competencyTest": 40, "paper": 10, "interview": 20, "trackRecord": 15},
		"passThresholds": []map[string]any{
			{"component": "SCORE_COMPONENT_COMPETENCY_TEST", "minScore": 60},
			{"component": "SCORE_COMPONENT_INTERVIEW", "minScore": 60},
		},
		"minCompetencyCategory": "COMPETENCY_CATEGORY_STILL_MEETS",
		"minFinalScore":         65,
		"tieBreakRule":          "TIE_BREAK_RULE_WEIGHT_ORDER",
		"publishScores":         true,
		"holidayOverrides": []map[string]any{
			{"date": "2027-01-01", "description": "Tahun Baru 2027 Masehi"},
			{"date": "2027-02-06", "description": "Tahun Baru Imlek 2578 Kongzili"},
			{"date": "2027-03-10", "description": "Hari Suci Nyepi"},
		},
	}
}

// applicationBody is candidate k's application to the selection id: eligible, with a NIP,
// e-mail and phone of their own.
func applicationBody(id string, k int) map[string]any {
	return map[string]any{
		"candidate": map[string]any{
			"fullName": fmt.Sprintf("Kandidat Nomor %05d, S.T.", k), "nip": fmt.Sprintf("1980010120050%05d", k%100000),
			"email": fmt.Sprintf("%s-%05d@contoh.go.id", id, k), "phone": fmt.Sprintf("+6281200%05d", k%100000),
			"birthDate": fmt.Sprintf("19%02d-%02d-%02d", 75+k%15, k%12+1, k%28+1), "educationLevel": "EDUCATION_LEVEL_MASTER",
			"educationMajor": "Kesehatan Masyarakat", "yearsOfExperience": 10 + k%10, "yearsInAdministratorPost": 3 + k%4,
			"currentPost": "Sekretaris Dinas", "currentPostLevel": "POST_LEVEL_ADMINISTRATOR", "currentAgency": "Pemerintah Kota Contoh",
		},
		"statement": "Saya siap memimpin Dinas Kesehatan.",
	}
}
