package ticket_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	pt "github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
	"github.com/bottega-crm/bottega/internal/ticket"
)

// ev is a care event on a day, minutes after 10:00 UTC.
func ev(id, name, ticketID, day string, minutes float64, props string) string {
	p := `{"ticket_id":"` + ticketID + `"` + props + `}`
	if ticketID == "" {
		p = `{"subject":"?"}`
	}
	return pt.Ev("type", pt.Q("track"), "messageId", pt.Q(id), "event", pt.Q(name), "anonymousId", pt.Q("care-"+ticketID),
		"timestamp", pt.At(day, 600+minutes), "properties", p)
}

func period(t *testing.T, from, to string) days.Period {
	f, _ := time.Parse(time.DateOnly, from)
	e, _ := time.Parse(time.DateOnly, to)
	p, err := days.New(f, e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func show(x ticket.Times) string {
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	return fmt.Sprintf("%d/%d/%d response %s p90 %s resolution %s p90 %s", x.Tickets, x.Responded, x.Resolved,
		f(x.FirstResponseMedian), f(x.FirstResponseP90), f(x.ResolutionMedian), f(x.ResolutionP90))
}

// Care times through the real processing path: the desk's first reply (not
// the customer's), the first resolution, events out of order and repeated,
// by channel and month, a ticket without id as a failure.
func TestCareTimes(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := pt.New(t, db, ticket.NewRecorder())
		h.Send("care",
			// T1 on WhatsApp: the customer writes at +5, the desk at +10 and +20, resolved at +100.
			ev("t1a", "Ticket Created", "T1", "2025-03-01", 0, `,"channel":"whatsapp"`),
			ev("t1b", "Ticket Replied", "T1", "2025-03-01", 5, `,"author":"customer","channel":"whatsapp"`),
			ev("t1c", "Ticket Replied", "T1", "2025-03-01", 10, `,"author":"agent","channel":"whatsapp"`),
			ev("t1d", "Ticket Replied", "T1", "2025-03-01", 20, `,"author":"agent","channel":"whatsapp"`),
			ev("t1e", "Ticket Resolved", "T1", "2025-03-01", 100, `,"channel":"whatsapp"`),
			// T2 by e-mail: a reply without author is the desk's; resolved twice.
			ev("t2a", "Ticket Created", "T2", "2025-03-02", 0, `,"channel":"email"`),
			ev("t2b", "Ticket Replied", "T2", "2025-03-02", 60, ""),
			ev("t2c", "Ticket Solved", "T2", "2025-03-02", 600, ""),
			ev("t2d", "Ticket Resolved", "T2", "2025-03-02", 900, ""),
			// T4 by e-mail, not resolved yet.
			ev("t4a", "Ticket Created", "T4", "2025-03-20", 0, `,"channel":"email"`),
			ev("t4b", "Ticket Replied", "T4", "2025-03-20", 120, ""),
			// T5 in April.
			ev("t5a", "Ticket Created", "T5", "2025-04-01", 0, `,"channel":"phone"`),
			ev("t5b", "Ticket Replied", "T5", "2025-04-01", 30, ""),
			ev("bad", "Ticket Replied", "", "2025-03-03", 0, ""),
		)
		// T3 by phone, its events arriving backwards in three batches.
		h.Send("care", ev("t3c", "Ticket Resolved", "T3", "2025-03-15", 30, ""))
		h.Send("care", ev("t3b", "Ticket Replied", "T3", "2025-03-15", 2, ""))
		h.Send("care", ev("t3a", "Ticket Created", "T3", "2025-03-15", 0, `,"channel":"phone"`))
		// A late duplicate of T1's creation changes nothing.
		h.Send("care", ev("t1z", "Ticket Created", "T1", "2025-03-01", 1, `,"channel":"email"`))

		if errs := h.Errors(); len(errs) != 1 || errs["bad"] != "Ticket Replied not recorded: the event has no ticket_id" {
			t.Fatalf("errors %v", errs)
		}
		march := period(t, "2025-03-01", "2025-03-31")
		r, err := ticket.Summarise(h.Ctx, db, march, "")
		if err != nil {
			t.Fatal(err)
		}
		// Responses 10 60 2 120; resolutions 100 600 30.
		if got, want := show(r.Times), "4/4/3 response 35 p90 102 resolution 100 p90 500"; got != want {
			t.Fatalf("March: %s, want %s", got, want)
		}
		r, err = ticket.Summarise(h.Ctx, db, march, ticket.ByChannel)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range r.Groups {
			got = append(got, g.Key+": "+show(g.Times))
		}
		want := []string{
			"email: 2/2/1 response 90 p90 114 resolution 600 p90 600",
			"phone: 1/1/1 response 2 p90 2 resolution 30 p90 30",
			"whatsapp: 1/1/1 response 10 p90 10 resolution 100 p90 100",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("by channel:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		r, err = ticket.Summarise(h.Ctx, db, period(t, "2025-03-01", "2025-04-30"), ticket.ByMonth)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Groups) != 2 || r.Groups[0].Key != "2025-03" || r.Groups[0].Tickets != 4 || r.Groups[1].Key != "2025-04" ||
			show(r.Groups[1].Times) != "1/1/0 response 30 p90 30 resolution - p90 -" || r.Tickets != 5 {
			t.Fatalf("by month %+v", r)
		}
		if _, err := ticket.Summarise(h.Ctx, db, march, "store"); err == nil {
			t.Fatal("an unknown breakdown is accepted")
		}
	})
}
