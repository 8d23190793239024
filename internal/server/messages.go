package server

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Messages of the gRPC edge, in Indonesian and English.
var (
	msgInvalid           = i18n.Text{ID: "permintaan tidak valid", EN: "request is invalid"}
	msgInternal          = i18n.Text{ID: "terjadi kesalahan internal", EN: "internal error"}
	msgNoRule            = i18n.Text{ID: "akses ditolak", EN: "permission denied"}
	msgUnauthenticated   = i18n.Text{ID: "token tidak ada atau tidak valid", EN: "missing or invalid token"}
	msgIdentityDown      = i18n.Text{ID: "verifikasi identitas sedang tidak tersedia", EN: "identity verification is unavailable"}
	msgWrongRole         = i18n.Text{ID: "peran Anda tidak diizinkan melakukan ini", EN: "your role may not do this"}
	msgNotOnCommittee    = i18n.Text{ID: "Anda bukan anggota panitia seleksi ini", EN: "you are not on this selection's committee"}
	msgSelectionNotFound = i18n.Text{ID: "seleksi tidak ditemukan", EN: "selection not found"}
	msgTimeout           = i18n.Text{ID: "permintaan melewati batas waktu; kirim ulang dengan request_id yang sama", EN: "the request timed out; send it again with the same request_id"}
)

// language is the caller's preferred language: the Accept-Language header (forwarded by the
// gateway as grpcgateway-accept-language) or accept-language metadata from gRPC clients.
func language(ctx context.Context) i18n.Lang {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, key := range []string{"accept-language", "grpcgateway-accept-language"} {
		if v := md.Get(key); len(v) > 0 {
			return i18n.FromAcceptLanguage(v[0])
		}
	}
	return i18n.ID
}

// localizedError is a status whose message is in the caller's language, with a
// google.rpc.LocalizedMessage detail naming that language, plus any further details.
func localizedError(ctx context.Context, code codes.Code, t i18n.Text, details ...protoadapt.MessageV1) error {
	lang := language(ctx)
	st := status.New(code, t.In(lang))
	all := append([]protoadapt.MessageV1{&errdetails.LocalizedMessage{Locale: string(lang), Message: t.In(lang)}}, details...)
	withDetails, err := st.WithDetails(all...)
	if err != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// catalogMsg is a workflow message in the form the catalog renders; the audit timeline
// renders the same messages.
func catalogMsg(m workflows.Message) i18n.Msg { return audit.CatalogMsg(m) }

// storeMsg is a stored message in the form the catalog renders.
func storeMsg(t store.Text) i18n.Msg {
	out := i18n.Msg{Code: t.Code, Params: t.Params, EN: t.EN, ID: t.ID}
	if t.Detail != nil {
		d := storeMsg(*t.Detail)
		out.Detail = &d
	}
	return out
}

// localized is a message in both languages, for the API's LocalizedText fields.
func localized(cat *i18n.Catalog, m i18n.Msg) *seleksiv1.LocalizedText {
	t := cat.Text(m)
	return &seleksiv1.LocalizedText{Id: t.ID, En: t.EN}
}

// reasonText is a published reason for a plain string field: people's words as they wrote
// them, or the system's reason rendered in Indonesian (the language of record).
func reasonText(cat *i18n.Catalog, reason string, m *store.Text) string {
	if reason != "" || m == nil {
		return reason
	}
	return cat.Render(storeMsg(*m), i18n.ID)
}

// listOption is the field name REST clients send for a list option the store refused, and
// the message that says how to fix it.
func listOption(field string) (rest string, text i18n.Text) {
	switch field {
	case store.FieldPageSize:
		return "pageSize", i18n.Text{ID: "ukuran halaman tidak boleh negatif", EN: "the page size must not be negative"}
	case store.FieldPageToken:
		return "pageToken", i18n.Text{
			ID: "penanda halaman tidak sah atau berasal dari permintaan dengan filter atau urutan lain; mulai lagi dari halaman pertama",
			EN: "the page token is malformed or belongs to a request with another filter or order; start again from the first page"}
	case store.FieldFilter:
		return "filter", i18n.Text{
			ID: "filter tidak sah: gunakan perbandingan `kolom = NILAI` yang digabung dengan AND, pada kolom yang tercantum dalam dokumentasi daftar ini",
			EN: "the filter is not valid: use comparisons `field = VALUE` joined by AND, on the fields this list documents"}
	case store.FieldOrderBy:
		return "orderBy", i18n.Text{
			ID: "urutan tidak didukung: gunakan salah satu urutan yang tercantum dalam dokumentasi daftar ini, dapat diikuti desc",
			EN: "the order is not supported: use one of the orders this list documents, optionally followed by desc"}
	}
	return field, msgInvalid
}

// listOptionError is InvalidArgument naming the list option to fix, in the caller's language.
func listOptionError(ctx context.Context, e *store.OptionError) error {
	rest, text := listOption(e.Field)
	return localizedError(ctx, codes.InvalidArgument, text, &errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: rest, Description: text.In(language(ctx)), Reason: "INVALID_LIST_OPTION"}},
	})
}
