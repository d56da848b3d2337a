// Package days holds the span of whole UTC calendar days that the
// analytics reports cover.
//
// Guarantees: a Period's ends are midnights UTC and To is never before From;
// Bounds gives the half-open range of event times (unix milliseconds) that
// falls inside it.
package days

import (
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
)

// Period is a span of UTC calendar days, both ends included.
type Period struct {
	From, To time.Time // midnight UTC
}

// New returns the period of the days of from and to, or a fault.Invalid
// error if to is before from.
func New(from, to time.Time) (Period, error) {
	from, to = Start(from), Start(to)
	if to.Before(from) {
		return Period{}, fault.New(fault.Invalid, "to (%s) is before from (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	return Period{From: from, To: to}, nil
}

// Start returns the midnight UTC that starts t's day.
func Start(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Bounds returns the event times in the period: [lo, hi) in unix
// milliseconds.
func (p Period) Bounds() (lo, hi int64) {
	return p.From.UnixMilli(), p.To.AddDate(0, 0, 1).UnixMilli()
}
