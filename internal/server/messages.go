package server

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/bkpsdm/seleksi/internal/i18n"
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
