package store

import "sync"

// memoSize bounds each memo: enough for every person and selection a busy deployment sees in
// a day, a few megabytes at most.
const memoSize = 50_000

// memo remembers facts the store never changes once written (an actor's ID, how a selection
// records people), so the reads every call repeats cost no query after the first. It is
// bounded: when full it starts again empty, which costs one query per fact and keeps no
// bookkeeping on the hot path. Only facts that can never change belong here: a memo is not
// shared between processes and is never told of a change.
type memo[K comparable, V any] struct {
	mu  sync.RWMutex
	max int
	m   map[K]V
}

func newMemo[K comparable, V any](max int) *memo[K, V] {
	return &memo[K, V]{max: max, m: make(map[K]V)}
}

func (c *memo[K, V]) get(k K) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *memo[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = v
}
