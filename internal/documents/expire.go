package documents

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Unfinished uploads expire: tusd itself keeps partial uploads forever, so Run removes each
// one whose last chunk arrived longer than the expiry ago. A candidate who comes back later
// starts that file again.

// Run removes expired uploads every so often until ctx ends.
func (u *Uploads) Run(ctx context.Context) {
	every := min(max(u.opts.Expiry/4, time.Minute), time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := u.Expire(ctx); err != nil {
			u.logger.WarnContext(ctx, "expire unfinished uploads", "error", err)
		} else if n > 0 {
			u.logger.InfoContext(ctx, "expired unfinished uploads", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Expire removes the uploads untouched for longer than the expiry and reports how many. An
// upload untouched that long has no live request; its lock is still taken for the removal,
// so that a request arriving meanwhile waits and then finds the upload gone.
func (u *Uploads) Expire(ctx context.Context) (int, error) {
	infos, err := filepath.Glob(filepath.Join(u.opts.Dir, "*.info"))
	if err != nil {
		return 0, err
	}
	cutoff := u.opts.Now().Add(-u.opts.Expiry)
	n := 0
	for _, p := range infos {
		id := strings.TrimSuffix(filepath.Base(p), ".info")
		if !uploadID.MatchString(id) {
			continue
		}
		// The partial file's modification time is its last chunk's; the .info file's is
		// its creation's (or its last change's): the later of both counts.
		last := time.Time{}
		for _, f := range []string{p, filepath.Join(u.opts.Dir, id)} {
			if fi, err := os.Stat(f); err == nil && fi.ModTime().After(last) {
				last = fi.ModTime()
			}
		}
		if last.IsZero() || last.After(cutoff) {
			continue
		}
		lock, err := u.locker.NewLock(id)
		if err != nil {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err = lock.Lock(lctx, func() {})
		cancel()
		if err != nil {
			continue
		}
		u.remove(ctx, id)
		_ = lock.Unlock()
		n++
	}
	return n, ctx.Err()
}
