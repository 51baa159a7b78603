package standin

import (
	"context"
	"sync"
	"time"
)

// The slowing of wrong secrets. The session secret has 256 random bits,
// so guessing is hopeless anyway; the slowing keeps a process that
// floods the stand-in from costing it much, and gives it no answers to
// count. A tool with a stale secret (a stand-in restarted with a new one)
// gets its first few refusals at once.
const (
	freeWrong    = 3                      // wrong secrets per window answered at once
	wrongWindow  = time.Minute            // the window
	firstPenalty = 100 * time.Millisecond // the wait after the free ones, doubled each time
	maxPenalty   = 2 * time.Second        // and at most this
	maxWaiting   = 8                      // wrong secrets waiting at once; more get 429 at once
)

// limiter slows down wrong secrets. A right secret never passes through
// it, so no flood of wrong ones delays it.
type limiter struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	start   time.Time // of the current window
	count   int       // wrong secrets in it
	waiting int
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, sleep: sleepContext}
}

// wait is called for each wrong secret. It waits the penalty that the
// secrets before it earned and returns true, or returns false at once
// when maxWaiting others are already waiting.
func (l *limiter) wait(ctx context.Context) bool {
	d, ok := l.enter()
	if !ok {
		return false
	}
	defer l.leave()
	if d > 0 {
		l.sleep(ctx, d)
	}
	return true
}

func (l *limiter) enter() (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); now.Sub(l.start) >= wrongWindow || now.Before(l.start) {
		l.start, l.count = now, 0
	}
	if l.waiting >= maxWaiting {
		return 0, false
	}
	l.count++
	l.waiting++
	return penalty(l.count), true
}

func (l *limiter) leave() {
	l.mu.Lock()
	l.waiting--
	l.mu.Unlock()
}

// penalty is the wait for the nth wrong secret of a window.
func penalty(n int) time.Duration {
	if n <= freeWrong {
		return 0
	}
	d := firstPenalty
	for i := freeWrong + 1; i < n && d < maxPenalty; i++ {
		d *= 2
	}
	return min(d, maxPenalty)
}

// sleepContext waits d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
