package server

import (
	"fmt"
	"regexp"
	"strings"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Field violations name fields by their proto names (`page_size`), which is what
// google.rpc.BadRequest prescribes for protocol buffers and what gRPC clients see in their
// generated code; the REST gateway rewrites them to the JSON names its clients send
// (`pageSize`), as the same message prescribes for JSON (see internal/gateway). Their
// descriptions are in the caller's language, Indonesian unless Accept-Language asks for
// English, with a google.rpc.LocalizedMessage naming it.

// celRule is a message-level rule of the protos: the field it is about (empty for the
// message as a whole) and its words in Indonesian; the English words are the rule's message
// in the proto.
type celRule struct {
	field string
	id    string
}

// celRules covers every message-level rule in api/seleksi/v1 (TestEveryCELRuleIsTranslated).
var celRules = map[string]celRule{
	"application.unique_documents":         {"documents", "setiap dokumen persyaratan hanya boleh dikirim satu kali"},
	"session.place":                        {"venue", "sesi memerlukan tempat atau tautan rapat daring"},
	"session.times":                        {"end_time", "sesi harus berakhir setelah dimulai"},
	"answer_objection.corrected_result":    {"corrected_result", "hasil yang diperbaiki wajib diisi bila sanggah tanpa butir persyaratan diterima, dan tidak boleh diisi bila ditolak atau dijawab per butir"},
	"selection.committee_odd":              {"committee", "jumlah anggota panitia seleksi harus ganjil"},
	"selection.committee_internal_share":   {"committee", "anggota internal paling banyak 45% dari panitia seleksi"},
	"selection.committee_internal_level":   {"committee", "anggota internal harus menduduki jabatan paling rendah setingkat JPT Pratama"},
	"selection.committee_one_chair":        {"committee", "panitia seleksi harus memiliki tepat satu ketua"},
	"selection.committee_unique_members":   {"committee", "ID anggota panitia seleksi harus berbeda satu sama lain"},
	"selection.unique_thresholds":          {"pass_thresholds", "setiap komponen nilai hanya boleh memiliki satu nilai ambang"},
	"selection.unique_holiday_overrides":   {"holiday_overrides", "setiap tanggal hanya boleh diubah satu kali"},
	"requirements.unique_documents":        {"required_documents", "ID dokumen persyaratan harus berbeda satu sama lain"},
	"score_weights.sum":                    {"", "jumlah bobot harus 100"},
	"document_policy.unique_media_types":   {"document_media_types", "setiap jenis berkas hanya boleh disebut satu kali"},
	"record_results.unique_applications":   {"results", "setiap lamaran hanya boleh muncul satu kali per permintaan"},
	"record_results.correction_reason":     {"correction_reason", "alasan perbaikan wajib diisi bila hasil diperbaiki, dan hanya pada saat itu"},
	"correct_result.unique_applications":   {"results", "setiap lamaran hanya boleh muncul satu kali per permintaan"},
	"decide.unique_ranks":                  {"ranked", "peringkat harus berbeda satu sama lain"},
	"decide.unique_applications":           {"ranked", "setiap lamaran hanya boleh diberi satu peringkat"},
	"decide.consecutive_ranks":             {"ranked", "peringkat harus berurutan mulai dari 1 sampai jumlah lamaran yang diperingkat"},
	"decide.shortfall_statement":           {"shortfall_statement", "pernyataan kekurangan wajib diisi bila kurang dari tiga lamaran diperingkat"},
	"application_result.reason_on_fail":    {"reason", "alasan wajib diisi bila hasilnya tidak lulus"},
	"application_result.unique_components": {"scores", "setiap komponen nilai hanya boleh muncul satu kali"},
	"application_result.outcome_or_items":  {"outcome", "hasil wajib diisi kecuali putusan per butir persyaratan diberikan"},
	"application_result.unique_items":      {"items", "setiap butir persyaratan hanya boleh muncul satu kali"},
	"requirements.unique_items":            {"additional_items", "ID persyaratan tambahan harus berbeda satu sama lain dan dari butir tetap"},
}

// numbers finds the bounds in protovalidate's English message of a range rule.
var numbers = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)

// fieldViolation is one protovalidate violation as a field violation for people.
func fieldViolation(lang i18n.Lang, v *protovalidate.Violation) *errdetails.BadRequest_FieldViolation {
	field := protovalidate.FieldPathString(v.Proto.GetField())
	rule := v.Proto.GetRuleId()
	text := violationText(v)
	if r, ok := celRules[rule]; ok && r.field != "" {
		field = strings.TrimPrefix(field+"."+r.field, ".")
	}
	if field == "" {
		field = "request"
	}
	msg := text.In(lang)
	return &errdetails.BadRequest_FieldViolation{
		Field: field, Description: msg, Reason: rule,
		LocalizedMessage: &errdetails.LocalizedMessage{Locale: string(lang), Message: msg},
	}
}

// violationText says what a rule requires, in both languages.
func violationText(v *protovalidate.Violation) i18n.Text {
	rule := v.Proto.GetRuleId()
	en := v.Proto.GetMessage()
	if r, ok := celRules[rule]; ok {
		return i18n.Text{ID: r.id, EN: en}
	}
	val := ruleValue(v.RuleValue)
	_, kind, _ := strings.Cut(rule, ".")
	if kind == "" {
		kind = rule
	}
	t := func(id, e string) i18n.Text { return i18n.Text{ID: id, EN: e} }
	switch kind {
	case "required":
		return t("wajib diisi", "is required")
	case "max_len", "max_bytes":
		return t(fmt.Sprintf("paling banyak %s karakter", val), fmt.Sprintf("must be at most %s characters", val))
	case "min_len", "min_bytes":
		return t(fmt.Sprintf("paling sedikit %s karakter", val), fmt.Sprintf("must be at least %s characters", val))
	case "len":
		return t(fmt.Sprintf("harus tepat %s karakter", val), fmt.Sprintf("must be exactly %s characters", val))
	case "pattern":
		return t(fmt.Sprintf("bentuknya tidak sesuai dengan pola %s", val), fmt.Sprintf("does not match the pattern %s", val))
	case "email":
		return t("bukan alamat e-mail yang sah", "is not a valid e-mail address")
	case "lte":
		return t(fmt.Sprintf("paling besar %s", val), fmt.Sprintf("must be at most %s", val))
	case "lt":
		return t(fmt.Sprintf("harus kurang dari %s", val), fmt.Sprintf("must be less than %s", val))
	case "gte":
		return t(fmt.Sprintf("paling kecil %s", val), fmt.Sprintf("must be at least %s", val))
	case "gt":
		return t(fmt.Sprintf("harus lebih dari %s", val), fmt.Sprintf("must be greater than %s", val))
	case "gte_lte", "gt_lt", "gte_lt", "gt_lte":
		if b := numbers.FindAllString(en, -1); len(b) == 2 {
			return t(fmt.Sprintf("harus antara %s dan %s", b[0], b[1]), fmt.Sprintf("must be between %s and %s", b[0], b[1]))
		}
	case "max_items":
		return t(fmt.Sprintf("paling banyak %s butir", val), fmt.Sprintf("must have at most %s items", val))
	case "min_items":
		return t(fmt.Sprintf("paling sedikit %s butir", val), fmt.Sprintf("must have at least %s items", val))
	case "unique":
		return t("setiap butir harus berbeda", "items must be unique")
	case "defined_only", "in", "not_in", "const":
		return t("nilainya tidak termasuk yang diizinkan", "is not one of the allowed values")
	}
	// A rule this table does not know yet: its code, never English, for Indonesian readers.
	return t(fmt.Sprintf("tidak memenuhi aturan %s", rule), en)
}

// ruleValue formats a rule's value (a length, a bound, a pattern) for a message.
func ruleValue(v protoreflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	return fmt.Sprint(v.Interface())
}
