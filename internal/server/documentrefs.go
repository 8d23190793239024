package server

import (
	"context"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Why an application's documents were refused, in the caller's words (store.DocumentProblem
// reasons). Another candidate's document is answered as one that does not exist.
var documentProblemText = map[string]i18n.Text{
	store.DocumentNotFound: {ID: "dokumen tidak ditemukan di antara dokumen yang Anda unggah",
		EN: "no such document among the documents you uploaded"},
	store.DocumentOtherSelection: {ID: "dokumen ini diunggah untuk seleksi lain", EN: "the document was uploaded for another selection"},
	store.DocumentWrongKind: {ID: "dokumen ini diunggah sebagai jenis dokumen lain",
		EN: "the document was uploaded as another kind of document"},
	store.DocumentNotRequired: {ID: "seleksi ini tidak mensyaratkan dokumen jenis ini", EN: "this selection requires no document of this kind"},
	store.DocumentDuplicate:   {ID: "dokumen atau jenis dokumen ini disebut lebih dari satu kali", EN: "the document or its kind is named more than once"},
	store.DocumentInUse: {ID: "dokumen ini sudah dilampirkan pada lamaran atau telah diganti; unggah berkas baru",
		EN: "the document is already attached to an application or was replaced; upload the file again"},
	store.DocumentErased: {ID: "dokumen ini sudah dihapus setelah masa retensinya", EN: "the document was erased after its retention"},
}

var (
	msgDocumentsInvalid = i18n.Text{ID: "dokumen lamaran tidak memenuhi persyaratan", EN: "the application's documents do not meet the requirements"}
	msgDocumentsInUse   = i18n.Text{ID: "dokumen yang disebut tidak dapat dilampirkan lagi", EN: "a document named can no longer be attached"}
)

// documentsError answers a refusal of an application's documents: InvalidArgument (or
// FailedPrecondition when only documents' states stand in the way) with one field violation
// per problem, and one naming every required document missing. field names the request's
// field of the problem at index i (-1: the documents as a whole).
func documentsError(ctx context.Context, de *store.DocumentsError, field func(i int, reason string) string) error {
	lang := language(ctx)
	br := &errdetails.BadRequest{}
	add := func(f, reason string, t i18n.Text) {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: f, Description: t.In(lang), Reason: "DOCUMENT_" + strings.ToUpper(reason),
			LocalizedMessage: &errdetails.LocalizedMessage{Locale: string(lang), Message: t.In(lang)},
		})
	}
	for _, p := range de.Problems {
		if p.Reason == store.DocumentMissing {
			continue
		}
		t, ok := documentProblemText[p.Reason]
		if !ok {
			t = msgDocumentsInvalid
		}
		add(field(p.Index, p.Reason), p.Reason, t)
	}
	if missing := de.MissingKinds(); len(missing) > 0 {
		list := strings.Join(missing, ", ")
		add(field(-1, store.DocumentMissing), store.DocumentMissing, i18n.Text{
			ID: "dokumen persyaratan belum dilampirkan: " + list,
			EN: "required documents missing: " + list,
		})
	}
	code, msg := codes.InvalidArgument, msgDocumentsInvalid
	if isPrecondition(de) {
		code, msg = codes.FailedPrecondition, msgDocumentsInUse
	}
	return localizedError(ctx, code, msg, br)
}
