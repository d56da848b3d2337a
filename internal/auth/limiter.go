package auth

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"golang.org/x/time/rate"
)

// Sign-in budgets, in tokens per minute. An attempt costs a token when it
// starts (Allow) and, if it fails, one more (Failed): so an e-mail gets 10
// failed attempts a minute (bursts of 5) and an IP 30 (bursts of 10), while
// successful sign-ins cost half as much and give the e-mail's budget back.
const (
	emailTokens      = 20
	emailBurst       = 10
	ipTokens         = 60
	ipBurst          = 20
	maxLimiterKeys   = 10000
	limiterSweepSize = maxLimiterKeys / 2
)

// LoginLimiter slows down password guessing: each client IP and each
// e-mail address gets a budget of sign-in attempts: 10 failed attempts a
// minute per e-mail with bursts of 5, and 30 a minute per IP with bursts of
// 10. Every attempt is counted when it starts, so that guesses sent in
// parallel are counted too; a failure counts once more; a success gives the
// e-mail its whole budget back, so that its owner is not locked out by their
// own earlier typos. Use: Allow before checking the password, then Failed or
// Succeeded.
//
// It counts in memory: with several bottega nodes behind a load balancer,
// each node counts on its own, so the budgets are per node.
type LoginLimiter struct {
	now func() time.Time

	mu     sync.Mutex
	ips    map[string]*rate.Limiter
	emails map[string]*rate.Limiter
}

// NewLoginLimiter returns a limiter with the budgets above.
func NewLoginLimiter() *LoginLimiter {
	return &LoginLimiter{now: time.Now, ips: map[string]*rate.Limiter{}, emails: map[string]*rate.Limiter{}}
}

// retryHint is the internal cause of a RateLimited answer: when to retry.
type retryHint time.Duration

func (r retryHint) Error() string { return "retry after " + time.Duration(r).String() }

// RetryAfter returns how long the caller of a refused sign-in should wait
// (0 if err does not say).
func RetryAfter(err error) time.Duration {
	var h retryHint
	if errors.As(err, &h) {
		return time.Duration(h)
	}
	return 0
}

// Allow counts a sign-in attempt from ip for email and answers
// fault.RateLimited, with a hint for RetryAfter, when either budget is
// spent. A refused attempt costs nothing.
func (l *LoginLimiter) Allow(ip, email string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	byIP := l.get(l.ips, ip, ipTokens, ipBurst, now)
	byEmail := l.get(l.emails, email, emailTokens, emailBurst, now)
	r1 := byIP.ReserveN(now, 1)
	r2 := byEmail.ReserveN(now, 1)
	wait := max(r1.DelayFrom(now), r2.DelayFrom(now))
	if wait <= 0 {
		return nil
	}
	r1.CancelAt(now)
	r2.CancelAt(now)
	wait = (wait + time.Second - 1).Truncate(time.Second) // whole seconds, rounded up
	return fault.Wrap(retryHint(wait), fault.RateLimited, "too many sign-in attempts: try again in %d seconds", int(wait/time.Second))
}

// Failed tells the limiter that an attempt Allow let through failed: it
// costs the IP and the e-mail one more token each.
func (l *LoginLimiter) Failed(ip, email string) {
	email = strings.ToLower(strings.TrimSpace(email))
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	// Taking a token the budget does not have leaves it in debt: the next
	// attempts wait longer.
	l.get(l.ips, ip, ipTokens, ipBurst, now).ReserveN(now, 1)
	l.get(l.emails, email, emailTokens, emailBurst, now).ReserveN(now, 1)
}

// Succeeded tells the limiter that email signed in: its budget is whole
// again. The IP's budget is not refunded.
func (l *LoginLimiter) Succeeded(email string) {
	email = strings.ToLower(strings.TrimSpace(email))
	l.mu.Lock()
	delete(l.emails, email)
	l.mu.Unlock()
}

// get returns the limiter of key, making it if needed. When a map grows
// past maxLimiterKeys, limiters whose budget is whole again are dropped
// (they would behave as a new one).
func (l *LoginLimiter) get(m map[string]*rate.Limiter, key string, perMinute, burst int, now time.Time) *rate.Limiter {
	if lim, ok := m[key]; ok {
		return lim
	}
	if len(m) >= maxLimiterKeys {
		for k, lim := range m {
			if lim.TokensAt(now) >= float64(lim.Burst()) {
				delete(m, k)
			}
		}
		// Under a flood of distinct keys nothing is whole: drop some anyway
		// rather than grow without bound.
		for k := range m {
			if len(m) < limiterSweepSize {
				break
			}
			delete(m, k)
		}
	}
	lim := rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), burst)
	m[key] = lim
	return lim
}
