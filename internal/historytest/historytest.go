// Package historytest owns test doubles of Temporal's history API, shared by the tests of
// the packages that read workflow histories (the archiver, the audit handlers).
package historytest

import (
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// Iterator is a client.HistoryEventIterator over a fixed list of events, or one that fails
// once with an error.
type Iterator struct {
	events []*historypb.HistoryEvent
	err    error
}

var _ client.HistoryEventIterator = (*Iterator)(nil)

// Events iterates over h's events.
func Events(h *historypb.History) *Iterator { return &Iterator{events: h.GetEvents()} }

// NotFound fails as Temporal does for a history it no longer has.
func NotFound() *Iterator {
	return &Iterator{err: serviceerror.NewNotFound("workflow execution not found")}
}

// Failing fails once with err, as a read cut short (its context ended) does.
func Failing(err error) *Iterator { return &Iterator{err: err} }

// HasNext reports whether Next has an event or the error to return.
func (it *Iterator) HasNext() bool { return it.err != nil || len(it.events) > 0 }

// Next returns the next event, or the error once.
func (it *Iterator) Next() (*historypb.HistoryEvent, error) {
	if it.err != nil {
		err := it.err
		it.err = nil
		return nil, err
	}
	e := it.events[0]
	it.events = it.events[1:]
	return e, nil
}
