package days_test

import (
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/fault"
)

func TestPeriod(t *testing.T) {
	rome := time.FixedZone("CET", 3600)
	p, err := days.New(time.Date(2025, 3, 1, 0, 30, 0, 0, rome), time.Date(2025, 3, 31, 23, 59, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	// 00:30 in Rome is still February 28 in UTC.
	if got := p.From.Format(time.DateOnly) + " " + p.To.Format(time.DateOnly); got != "2025-02-28 2025-03-31" {
		t.Fatalf("period %s", got)
	}
	lo, hi := p.Bounds()
	if lo != time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC).UnixMilli() || hi != time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).UnixMilli() {
		t.Fatalf("bounds %d %d", lo, hi)
	}
	if _, err := days.New(p.To, p.From); !fault.Is(err, fault.Invalid) {
		t.Fatalf("reversed period: %v", err)
	}
}
