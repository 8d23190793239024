package official

import (
	"context"
	"testing"

	"github.com/bkpsdm/seleksi/internal/keys"
)

// TestSignerKeyDirectoryIDs is a signer built from a key directory's ring, whose keys carry
// the operator's kids: documents still name their key by the ID derived from it, the one the
// store registers, and a document signed before a rotation verifies after it.
func TestSignerKeyDirectoryIDs(t *testing.T) {
	ctx := context.Background()
	older, err := keys.LoadOrCreateEd25519(t.TempDir(), "a.pem")
	if err != nil {
		t.Fatal(err)
	}
	newer, err := keys.LoadOrCreateEd25519(t.TempDir(), "b.pem")
	if err != nil {
		t.Fatal(err)
	}
	older.ID, newer.ID = "2026-12", "2027-06"
	before, err := NewEd25519Signer(older)
	if err != nil {
		t.Fatal(err)
	}
	if before.KeyID() != keys.KeyID(older.Public) {
		t.Fatalf("KeyID %q, want the derived %q", before.KeyID(), keys.KeyID(older.Public))
	}
	doc := []byte("%PDF-1.7 a document")
	sig, err := before.Sign(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	after, err := NewEd25519Signer(newer, older.Public)
	if err != nil {
		t.Fatal(err)
	}
	if after.KeyID() != keys.KeyID(newer.Public) {
		t.Fatalf("after the rotation KeyID %q, want %q", after.KeyID(), keys.KeyID(newer.Public))
	}
	if err := after.Verify(ctx, before.KeyID(), doc, sig); err != nil {
		t.Fatalf("a document signed before the rotation: %v", err)
	}
	fresh, err := after.Sign(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := after.Verify(ctx, after.KeyID(), doc, fresh); err != nil {
		t.Fatalf("a document signed after the rotation: %v", err)
	}
	if err := after.Verify(ctx, before.KeyID(), doc, fresh); err == nil {
		t.Fatal("a signature verified under the wrong key")
	}
}
