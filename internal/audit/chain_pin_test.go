package audit

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// referenceCheckChain is CheckChain as first written, which counted the events missing from
// a gap by walking it. CheckChain's findings are what an auditor reads, so the optimised one
// must word them identically.
func referenceCheckChain(events []AuditEvent, head *ChainHead) []Finding {
	var fs []Finding
	present := map[int64]bool{}
	for _, e := range events {
		present[e.Seq] = true
	}
	prevHash := ""
	var prevSeq int64
	for i, e := range events {
		var why []string
		switch {
		case i == 0 && e.Seq != 1:
			why = append(why, fmt.Sprintf("the chain starts at seq %d instead of 1", e.Seq))
		case i > 0 && e.Seq <= prevSeq:
			why = append(why, fmt.Sprintf("seq %d comes after seq %d: the events are out of order or duplicated", e.Seq, prevSeq))
		case i > 0 && e.Seq != prevSeq+1:
			gone := int64(0)
			for s := prevSeq + 1; s < e.Seq; s++ {
				if !present[s] {
					gone++
				}
			}
			if gone == 0 {
				why = append(why, fmt.Sprintf("seq %d comes after seq %d: the events are out of order", e.Seq, prevSeq))
			} else {
				why = append(why, fmt.Sprintf("seq %d comes after seq %d: %d event(s) are missing", e.Seq, prevSeq, gone))
			}
		}
		if e.PrevHash != prevHash {
			why = append(why, fmt.Sprintf("its prev_hash %s is not the hash %s of the event before it", short(e.PrevHash), short(prevHash)))
		}
		if len(why) > 0 {
			var seqs []int64
			if i > 0 {
				seqs = append(seqs, prevSeq)
			}
			fs = append(fs, Finding{Kind: KindAuditChainBroken, Seqs: append(seqs, e.Seq),
				Message: fmt.Sprintf("the chain is broken before event seq %d: %s", e.Seq, strings.Join(why, "; "))})
		}
		if h := ChainHash(e.PrevHash, e); h != e.Hash {
			fs = append(fs, Finding{Kind: KindAuditChainBroken, Seqs: []int64{e.Seq},
				Message: fmt.Sprintf("event seq %d was altered: its content hashes to %s, the chain records %s", e.Seq, short(h), short(e.Hash))})
		}
		if len(e.Payload) > 0 {
			d, err := PayloadDigest(e.Payload)
			switch {
			case err != nil:
				fs = append(fs, Finding{Kind: KindAuditPayloadMismatch, Seqs: []int64{e.Seq},
					Message: fmt.Sprintf("event seq %d: the payload is not valid JSON: %v", e.Seq, err)})
			case d != e.PayloadSHA256:
				fs = append(fs, Finding{Kind: KindAuditPayloadMismatch, Seqs: []int64{e.Seq},
					Message: fmt.Sprintf("event seq %d: the payload hashes to %s, the event records %s", e.Seq, short(d), short(e.PayloadSHA256))})
			}
		}
		prevHash, prevSeq = e.Hash, e.Seq
	}
	if head != nil && *head != Head(events) {
		got := Head(events)
		fs = append(fs, Finding{Kind: KindAuditChainBroken, Seqs: nonZero(got.Seq, head.Seq),
			Message: fmt.Sprintf("the chain ends at seq %d (%s), but its recorded head is seq %d (%s): events at the end are missing or were added",
				got.Seq, short(got.Hash), head.Seq, short(head.Hash))})
	}
	return fs
}

// TestCheckChainPinnedToReference tampers with chains at random (deletions, swaps,
// duplicates, renumbering, altered fields and payloads, a changed head) and compares every
// finding with the reference's.
func TestCheckChainPinnedToReference(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 42))
	base := syntheticChain()
	for len(base) < 40 {
		e := base[len(base)-1]
		e.Seq++
		base = append(base, Link(&base[len(base)-1], e))
	}
	for round := range 2000 {
		events := append([]AuditEvent(nil), base[:1+r.IntN(len(base))]...)
		head := Head(events)
		for range 1 + r.IntN(4) {
			i := r.IntN(len(events))
			switch r.IntN(8) {
			case 0:
				events = append(events[:i:i], events[i+1:]...)
			case 1:
				j := r.IntN(len(events))
				events[i], events[j] = events[j], events[i]
			case 2:
				events = append(events[:i+1:i+1], events[i:]...)
			case 3:
				events[i].Seq += int64(r.IntN(5)) - 2
			case 4:
				events[i].Reason += "!"
			case 5:
				events[i].Payload = []byte(`{"n":` + fmt.Sprint(r.IntN(3)) + `}`)
			case 6:
				head.Seq += int64(r.IntN(3)) - 1
			case 7:
				events[i].PrevHash = ""
			}
			if len(events) == 0 {
				events = base[:1]
			}
		}
		want, got := referenceCheckChain(events, &head), CheckChain(events, &head)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("round %d:\nreference %+v\ncurrent   %+v", round, want, got)
		}
	}
}

// A forged seq far beyond the chain must not make the check walk the gap.
func TestCheckChainForgedSeqGap(t *testing.T) {
	events := syntheticChain()
	events[3].Seq = 1 << 62
	events[4].Seq = -1 << 62
	fs := CheckChain(events, nil)
	var msgs []string
	for _, f := range fs {
		msgs = append(msgs, f.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		fmt.Sprintf("seq %d comes after seq 3: %d event(s) are missing", int64(1<<62), int64(1<<62)-4),
		fmt.Sprintf("seq %d comes after seq %d: the events are out of order or duplicated", int64(-1<<62), int64(1<<62)),
	} {
		if !strings.Contains(all, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
}
