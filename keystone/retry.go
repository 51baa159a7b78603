package keystone

// Retries: the attempts of one call, the backoff between them, and the
// errors of a call that ran out of attempts or time.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of the Client fields.
const (
	defaultMaxAttempts = 4
	defaultBaseBackoff = 200 * time.Millisecond
	defaultMaxBackoff  = 5 * time.Second
)

// do sends r, retrying connection errors, 5xx and 429 with backoff, and
// returns the first answer of any other status for the caller to judge.
// Every error it returns wraps ErrUnavailable; see IssuePassword for the
// others.
func (c *Client) do(ctx context.Context, r *request) (*answer, error) {
	hc := c.httpClient()
	if c.HTTP == nil {
		defer hc.CloseIdleConnections()
	}
	maxAttempts := c.attempts(r)
	shown := displayURL(r.url)
	start := time.Now()
	var last string // the last failure, for a timeout's message

	for attempt := 1; ; attempt++ {
		c.debugf("keystone: %s %s (attempt %d of %d)", r.method, shown, attempt, maxAttempts)
		t0 := time.Now()
		ans, err := c.once(ctx, hc, r)
		if err != nil && ctx.Err() != nil {
			return nil, r.contextError(ctx, start, attempt, last)
		}
		var wait time.Duration
		var failure error
		if err != nil {
			c.debugf("keystone: attempt %d failed after %s: %v", attempt, roundDuration(time.Since(t0)), err)
			var perm *permanentError
			if errors.As(err, &perm) {
				return nil, &problemError{perm.problem, fmt.Errorf("%w: %s %s failed: %w", ErrUnavailable, r.method, shown, perm.err)}
			}
			last = "the last attempt failed: " + err.Error()
			what := "cannot reach keystone"
			var cut *cutOffError
			if errors.As(err, &cut) {
				what = "the answer of keystone was cut off"
			}
			failure = &problemError{ProblemNetwork, fmt.Errorf("%w: %s: %s %s failed: %w (%s)",
				ErrUnavailable, what, r.method, shown, err, attemptsText(attempt))}
			wait = c.backoff(attempt)
		} else {
			c.debugf("keystone: answered %d %s in %s", ans.status, http.StatusText(ans.status), roundDuration(time.Since(t0)))
			if !retryableStatus(ans.status) {
				return ans, nil
			}
			last = fmt.Sprintf("the last answer was %d %s", ans.status, http.StatusText(ans.status))
			serr := r.answerError(ans, ErrUnavailable, ProblemOverloaded, "")
			serr.attempts = attempt
			failure = serr
			wait = c.backoff(attempt)
			if ra, ok := c.retryAfter(ans); ok {
				wait = ra
			}
		}
		if attempt >= maxAttempts {
			return nil, failure
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			c.debugf("keystone: not retrying: waiting %s would pass the deadline", roundDuration(wait))
			return nil, withGiveUp(failure, wait)
		}
		c.debugf("keystone: retrying in %s", roundDuration(wait))
		if err := c.sleepFunc()(ctx, wait); err != nil {
			return nil, r.contextError(ctx, start, attempt, last)
		}
	}
}

// attempts returns how many attempts r may take: one when r.noRetry,
// else maxAttempts or its default.
func (c *Client) attempts(r *request) int {
	switch {
	case r.noRetry:
		return 1
	case c.maxAttempts <= 0:
		return defaultMaxAttempts
	default:
		return c.maxAttempts
	}
}

// retryableStatus reports whether an answer of this status is worth another
// attempt.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// backoff returns the wait before retry number attempt (1 for the first
// retry): BaseBackoff doubled per retry, capped at MaxBackoff, then jittered
// into [d/2, d].
func (c *Client) backoff(attempt int) time.Duration {
	base, maxWait := c.backoffBounds()
	d := base
	for i := 1; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return d
}

// backoffBounds returns BaseBackoff and MaxBackoff with their defaults.
func (c *Client) backoffBounds() (base, maxWait time.Duration) {
	base, maxWait = c.BaseBackoff, c.MaxBackoff
	if base <= 0 {
		base = defaultBaseBackoff
	}
	if maxWait <= 0 {
		maxWait = defaultMaxBackoff
	}
	return min(base, maxWait), maxWait
}

// retryAfter returns the wait a 429 or 503 answer asks for in Retry-After
// (seconds or an HTTP date), capped at MaxBackoff.
func (c *Client) retryAfter(ans *answer) (time.Duration, bool) {
	if ans.status != http.StatusTooManyRequests && ans.status != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(ans.header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	_, maxWait := c.backoffBounds()
	var d time.Duration
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil {
		if secs > uint64(maxWait/time.Second) {
			return maxWait, true
		}
		d = time.Duration(secs) * time.Second
	} else if when, err := http.ParseTime(v); err == nil {
		d = when.Sub(c.now())
	} else {
		return 0, false
	}
	return min(max(d, 0), maxWait), true
}

// contextError is the error for a call cut short by its context: a timeout
// when the deadline passed.
func (r *request) contextError(ctx context.Context, start time.Time, attempts int, last string) error {
	detail := attemptsText(attempts)
	if last != "" {
		detail += "; " + last
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		limit := time.Since(start)
		if deadline, ok := ctx.Deadline(); ok {
			limit = deadline.Sub(start)
		}
		return &timeoutError{fmt.Errorf("%w: %s %s timed out after %s (%w, %s)",
			ErrUnavailable, r.method, displayURL(r.url), roundDuration(limit), ctx.Err(), detail)}
	}
	return fmt.Errorf("%w: %s %s was canceled (%w, %s)", ErrUnavailable, r.method, displayURL(r.url), ctx.Err(), detail)
}

// withGiveUp marks a retryable failure as a timeout: the next retry was
// not made because its wait would pass the deadline.
func withGiveUp(failure error, wait time.Duration) error {
	var serr *statusError
	if errors.As(failure, &serr) {
		serr.gaveUp, serr.nextWait = true, wait
		return serr
	}
	return &timeoutError{fmt.Errorf("%w; %s", failure, gaveUpText(wait))}
}

// gaveUpText says that no retry was made because waiting would pass the
// deadline.
func gaveUpText(wait time.Duration) string {
	return fmt.Sprintf("gave up: the next retry, %s away, would pass the deadline", roundDuration(wait))
}

// attemptsText says how many attempts were made.
func attemptsText(n int) string {
	if n == 1 {
		return "after 1 attempt"
	}
	return fmt.Sprintf("after %d attempts", n)
}

// roundDuration rounds d for messages: whole seconds from 10s, tenths
// from 1s, milliseconds below.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

// sleepContext waits d, or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sleepFunc returns the sleep to wait between attempts.
func (c *Client) sleepFunc() func(context.Context, time.Duration) error {
	if c.sleep != nil {
		return c.sleep
	}
	return sleepContext
}
