package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
)

// exportStream is the server side of an export stream, in memory: it keeps what the handler
// sends.
type exportStream struct {
	grpc.ServerStream
	ctx  context.Context
	msgs []*seleksiv1.ExportHistoryResponse
}

func (s *exportStream) Context() context.Context { return s.ctx }

func (s *exportStream) Send(m *seleksiv1.ExportHistoryResponse) error {
	s.msgs = append(s.msgs, m)
	return nil
}

// exported is an export as a client receives it.
type exported struct {
	header *seleksiv1.BundleHeader
	// zip is the chunks written one after the other.
	zip    []byte
	bundle *audit.Bundle
	chunks int
}

// export runs ExportHistory and checks the stream's shape: a header first, chunks of at most
// exportChunkSize, and a trailer whose size and SHA-256 are those of the chunks. It returns
// the handler's error, with nothing else, when the handler fails.
func export(t *testing.T, s *AuditServer, name string) (*exported, error) {
	t.Helper()
	st := &exportStream{ctx: context.Background()}
	if err := s.ExportHistory(&seleksiv1.ExportHistoryRequest{Name: name}, st); err != nil {
		return nil, err
	}
	if len(st.msgs) < 3 {
		t.Fatalf("the stream holds %d messages, want a header, chunks and a trailer", len(st.msgs))
	}
	out := &exported{header: st.msgs[0].GetHeader()}
	if out.header == nil {
		t.Fatalf("the first message is %v, want the header", st.msgs[0])
	}
	var buf bytes.Buffer
	for i, m := range st.msgs[1 : len(st.msgs)-1] {
		c, ok := m.GetContent().(*seleksiv1.ExportHistoryResponse_Chunk)
		if !ok || len(c.Chunk) == 0 || len(c.Chunk) > exportChunkSize {
			t.Fatalf("message %d is not a chunk of 1 to %d bytes: %T", i+1, exportChunkSize, m.GetContent())
		}
		buf.Write(c.Chunk)
		out.chunks++
	}
	tr := st.msgs[len(st.msgs)-1].GetTrailer()
	sum := sha256.Sum256(buf.Bytes())
	if tr == nil || tr.GetSizeBytes() != int64(buf.Len()) || tr.GetSha256() != hex.EncodeToString(sum[:]) {
		t.Fatalf("trailer %v for %d bytes with SHA-256 %x", tr, buf.Len(), sum)
	}
	out.zip = buf.Bytes()
	b, err := audit.ReadBundle(bytes.NewReader(out.zip), int64(len(out.zip)))
	if err != nil {
		t.Fatalf("the export is not a bundle: %v", err)
	}
	out.bundle = b
	return out, nil
}

// historyParts returns the bundle's histories, in order.
func (e *exported) historyParts() [][]byte {
	var out [][]byte
	for _, h := range e.bundle.Histories {
		out = append(out, h.JSON)
	}
	return out
}

func startedRunID(h *historypb.History) string {
	return h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetOriginalExecutionRunId()
}

// rewritingArchive hands out a different history from the second read of a run on, as if
// someone rewrote the archive while an export was reading it.
type rewritingArchive struct {
	*fakeArchive
	reads map[string]int
}

func (a *rewritingArchive) ArchivedHistory(ctx context.Context, selectionID, runID string) ([]byte, error) {
	b, err := a.fakeArchive.ArchivedHistory(ctx, selectionID, runID)
	a.reads[runID]++
	if a.reads[runID] > 1 {
		b = append(bytes.Clone(b), ' ')
	}
	return b, err
}

// TestAuditExportArchiveRewritten: the export reads an archived run twice (to check it, then
// to write it, so that it never holds every run at once); a history that changed in between
// fails the export instead of slipping into the bundle, and the stream ends without the
// trailer that would make the client accept it.
func TestAuditExportArchiveRewritten(t *testing.T) {
	rec := loadRecorded(t)
	arch := &rewritingArchive{fakeArchive: archiveRecorded(t, rec), reads: map[string]int{}}
	rec.history.runs = nil
	s := newTestAuditServer(t, rec)
	s.UseArchive(arch)
	st := &exportStream{ctx: context.Background()}
	err := s.ExportHistory(&seleksiv1.ExportHistoryRequest{Name: "selections/" + rec.facts.SelectionID}, st)
	if status.Code(err) != codes.Internal || strings.Contains(status.Convert(err).Message(), "archived run") {
		t.Fatalf("export of a rewritten archive: %v, want Internal without the server's text", err)
	}
	if len(st.msgs) == 0 || st.msgs[0].GetHeader() == nil {
		t.Fatalf("messages %v, want the header first", st.msgs)
	}
	for _, m := range st.msgs {
		if m.GetTrailer() != nil {
			t.Fatal("the stream of a failed export ends with a trailer")
		}
	}
}

// TestChunkSender: whatever sizes the zip writer writes in, the stream carries full chunks
// of exportChunkSize and then the rest, in order.
func TestChunkSender(t *testing.T) {
	st := &exportStream{ctx: context.Background()}
	c := &chunkSender{stream: st, h: sha256.New()}
	var want bytes.Buffer
	for i, n := range []int{1, 100, exportChunkSize, 3 * exportChunkSize / 2, 7, exportChunkSize - 108, 65536} {
		p := bytes.Repeat([]byte{byte('a' + i)}, n)
		want.Write(p)
		if k, err := c.Write(p); k != n || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", n, k, err)
		}
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for i, m := range st.msgs {
		chunk := m.GetChunk()
		if len(chunk) != exportChunkSize && i != len(st.msgs)-1 {
			t.Errorf("chunk %d holds %d bytes, want %d", i, len(chunk), exportChunkSize)
		}
		got.Write(chunk)
	}
	sum := sha256.Sum256(want.Bytes())
	if !bytes.Equal(got.Bytes(), want.Bytes()) || c.n != int64(want.Len()) || hex.EncodeToString(c.h.Sum(nil)) != hex.EncodeToString(sum[:]) {
		t.Errorf("the chunks hold %d bytes, %d written (counted %d)", got.Len(), want.Len(), c.n)
	}
}
