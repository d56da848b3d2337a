package ticket

import (
	"math"
	"slices"
	"strings"
)

// Event names, and what each does to a ticket.
const (
	Created  = "Ticket Created"
	Replied  = "Ticket Replied"
	Resolved = "Ticket Resolved"
)

// kind maps an event name to Created, Replied or Resolved ("" for others).
func kind(name string) string {
	switch name {
	case Created, Replied, Resolved:
		return name
	case "Ticket Solved":
		return Resolved
	}
	return ""
}

// customerAuthors are authors of a reply that are the customer, not the desk.
var customerAuthors = map[string]bool{"customer": true, "end_user": true, "end-user": true, "user": true, "requester": true, "contact": true}

// byDesk reports whether a reply's author is the care desk.
func byDesk(author string) bool {
	return !customerAuthors[strings.ToLower(strings.TrimSpace(author))]
}

// Times are the care figures of a set of tickets.
type Times struct {
	Tickets   int `json:"tickets" doc:"Tickets created"`
	Responded int `json:"responded" doc:"Tickets with a reply from the desk"`
	Resolved  int `json:"resolved"`
	// Durations in minutes; null when no ticket has one.
	FirstResponseMedian *float64 `json:"first_response_median_minutes"`
	FirstResponseP90    *float64 `json:"first_response_p90_minutes"`
	ResolutionMedian    *float64 `json:"resolution_median_minutes"`
	ResolutionP90       *float64 `json:"resolution_p90_minutes"`

	responses, resolutions []float64
}

// add counts a ticket; response and resolution are durations in minutes,
// negative when there is none.
func (t *Times) add(response, resolution float64) {
	t.Tickets++
	if response >= 0 {
		t.Responded++
		t.responses = append(t.responses, response)
	}
	if resolution >= 0 {
		t.Resolved++
		t.resolutions = append(t.resolutions, resolution)
	}
}

func (t *Times) finish() {
	t.FirstResponseMedian, t.FirstResponseP90 = Percentile(t.responses, 0.5), Percentile(t.responses, 0.9)
	t.ResolutionMedian, t.ResolutionP90 = Percentile(t.resolutions, 0.5), Percentile(t.resolutions, 0.9)
	t.responses, t.resolutions = nil, nil
}

// Percentile returns the p-quantile (0-1) of xs, interpolating linearly
// between the nearest ranks (PERCENTILE.INC), rounded to one decimal; nil for
// no values. It sorts xs.
func Percentile(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	h := p * float64(len(xs)-1)
	lo := math.Floor(h)
	v := xs[int(lo)]
	if int(lo)+1 < len(xs) {
		v += (h - lo) * (xs[int(lo)+1] - v)
	}
	v = math.Round(v*10) / 10
	return &v
}
