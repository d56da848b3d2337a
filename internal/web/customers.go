package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/directory"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/profile"
)

// The customer list and the customer 360 read internal/directory, the same
// read model as the API. Contact details (e-mails, phone numbers, and
// e-mail or phone keys of traits and events) are masked unless the staff
// member holds customers:pii, on the pages and in the CSV alike.

// filterParams are the list's query parameters; the overview's drill-down
// links use them too.
var filterParams = []string{"q", "segment", "r", "fm", "persona", "churn", "channel", "store", "nps", "visitors", "sort"}

// listFilter reads the list's filter from the query string.
func (s *server) listFilter(rq *request) (directory.Filter, error) {
	q := rq.r.URL.Query()
	f := directory.Filter{Text: q.Get("q"), Segment: q.Get("segment"), Churn: q.Get("churn"), Channel: q.Get("channel"),
		Store: q.Get("store"), NPS: q.Get("nps"), Sort: q.Get("sort"), Cursor: q.Get("cursor"),
		Known: q.Get("visitors") != "1"} // anonymous visitors only when asked for
	for name, score := range map[string]*int{"r": &f.R, "fm": &f.FM} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 5 {
				return f, fault.New(fault.Invalid, "%s %q is not an RFM score from 1 to 5", name, v)
			}
			*score = n
		}
	}
	if p := q.Get("persona"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return f, fault.New(fault.Invalid, "persona %q is not a persona id", p)
		}
		f.Persona = n
	}
	if err := f.Check(); err != nil {
		return f, err
	}
	if !rq.who.Can(auth.CustomersPII) && auth.LooksLikeContact(f.Text) {
		return f, rq.refusal(fault.Forbidden, "customers.search.needs_pii")
	}
	if f.Text != "" {
		rules, err := identity.LoadRules(rq.ctx, s.DB, s.PhoneRegion)
		if err != nil {
			return f, err
		}
		f.Rules = &rules
	}
	return f, nil
}

// filterQuery returns the query string of the filter's parameters as asked
// (no cursor).
func filterQuery(rq *request) url.Values {
	q := rq.r.URL.Query()
	out := url.Values{}
	for _, k := range filterParams {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

type option struct {
	Value, Label string
	Selected     bool
}

type customerRow struct {
	directory.Row
	Email, Phone string // masked without customers:pii
}

// CLV is the row's predicted value (0 without a prediction).
func (r customerRow) CLV() int64 {
	if r.CLVMinor == nil {
		return 0
	}
	return *r.CLVMinor
}

// NPSScore is the latest NPS score (0 without an answer).
func (r customerRow) NPSScore() int {
	if r.NPS == nil {
		return 0
	}
	return *r.NPS
}

// ChurnClass is the badge class of the row's churn band.
func (r customerRow) ChurnClass() string { return churnClass(r.Churn) }

func churnClass(band string) string {
	switch band {
	case "low":
		return "badge-good"
	case "medium":
		return "badge-muted"
	case "high":
		return "badge-warn"
	}
	return "badge-bad"
}

type customersData struct {
	Q                                                       string
	R, FM                                                   int  // an RFM grid cell, kept while other filters change
	Visitors                                                bool // anonymous visitors listed too
	Segments, Personas, Churn, Channels, Stores, NPS, Sorts []option
	Rows                                                    []customerRow
	Total                                                   *int64
	TotalN                                                  int64
	More                                                    bool   // a next page exists
	NextURL, FirstURL, CSVURL                               string // FirstURL: "" on the first page
}

func options(values []string, selected string, label func(string) string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: label(v), Selected: v == selected}
	}
	return out
}

func (s *server) customers(rq *request) error {
	f, err := s.listFilter(rq)
	if err != nil {
		return err
	}
	page, err := directory.List(rq.ctx, s.DB, f)
	if err != nil {
		return err
	}
	pii := rq.who.Can(auth.CustomersPII)
	qs := filterQuery(rq)
	d := customersData{Q: f.Text, R: f.R, FM: f.FM, Visitors: !f.Known, Total: page.Total, More: page.Next != "", CSVURL: "/customers.csv"}
	if page.Total != nil {
		d.TotalN = *page.Total
	}
	if len(qs) > 0 {
		d.CSVURL += "?" + qs.Encode()
	}
	if page.Next != "" {
		next := url.Values{}
		for k, v := range qs {
			next[k] = v
		}
		next.Set("cursor", page.Next)
		d.NextURL = "/customers?" + next.Encode()
	}
	if f.Cursor != "" {
		d.FirstURL = "/customers"
		if len(qs) > 0 {
			d.FirstURL += "?" + qs.Encode()
		}
	}
	for _, r := range page.Rows {
		row := customerRow{Row: r, Email: r.Email, Phone: r.Phone}
		if !pii {
			row.Email, row.Phone = auth.MaskEmail(r.Email), auth.MaskPhone(r.Phone)
		}
		d.Rows = append(d.Rows, row)
	}
	same := func(v string) string { return v }
	d.Segments = options(rfm.Segments, f.Segment, same)
	d.Churn = options(directory.ChurnBands, f.Churn, func(v string) string { return rq.L.T("customers.churn." + v) })
	d.Channels = options(auth.Channels, f.Channel, func(v string) string { return rq.L.T("customers.channel." + v) })
	d.NPS = options(directory.NPSGroups, f.NPS, func(v string) string { return rq.L.T("customers.nps." + v) })
	d.Sorts = options(directory.Sorts, f.Sort, func(v string) string { return rq.L.T("customers.sort." + v) })
	stores, err := directory.Stores(rq.ctx, s.DB)
	if err != nil {
		return err
	}
	if f.Store != "" && !slices.Contains(stores, f.Store) {
		stores = append(stores, f.Store)
	}
	d.Stores = options(stores, f.Store, same)
	personas, err := directory.Personas(rq.ctx, s.DB)
	if err != nil {
		return err
	}
	for _, p := range personas {
		id := strconv.Itoa(p.ID)
		d.Personas = append(d.Personas, option{Value: id, Label: id + " · " + p.Description, Selected: p.ID == f.Persona})
	}
	if rq.htmx() && rq.r.Header.Get("HX-Target") == "customer-results" {
		s.renderFragment(rq, http.StatusOK, "customers.html", "results", d)
		return nil
	}
	s.render(rq, http.StatusOK, "customers.html", d)
	return nil
}

func (s *server) customersCSV(rq *request) error {
	f, err := s.listFilter(rq)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="customers-`+s.Now().UTC().Format("2006-01-02")+`.csv"`)
	rq.w.WriteHeader(http.StatusOK)
	if err := directory.Export(rq.ctx, s.DB, f, rq.w, rq.who.Can(auth.CustomersPII)); err != nil {
		// The answer has begun: the client sees a cut file.
		s.Logger.Error("web: customer export failed", "err", err)
	}
	return nil
}

// pair is one key and its value as text.
type pair struct{ Key, Value string }

type identityRow struct {
	Type, Value, Original, Profile string
	FirstSeen                      time.Time
}

type mergeRow struct {
	directory.Merge
	Identifiers string // JSON, masked without customers:pii
}

type timelineItem struct {
	At      time.Time
	Channel string
	Type    string
	Name    string
	Details []pair
}

type timelineData struct {
	ID     string
	Events []timelineItem
	More   string // URL of the next events, "" at the end
}

type customerData struct {
	directory.Customer
	Email, Phone          string
	Traits                []pair
	Consent               []consentBadge
	Identities            []identityRow
	Merges                []mergeRow
	AOV                   int64 // revenue per order
	FirstOrder, LastOrder time.Time
	PAlive                float64
	ExpectedPurchases     float64
	NextOrder             string
	Timeline              timelineData
	Undone                bool // a merge was just undone
	TimelineOnly          bool
}

type consentBadge struct {
	Category string
	Granted  bool
}

func (s *server) customer(rq *request) error {
	id := rq.r.PathValue("id")
	root, err := identity.Canonical(rq.ctx, s.DB, id)
	if err != nil {
		return err
	}
	if root != id {
		target := "/customers/" + url.PathEscape(root)
		http.Redirect(rq.w, rq.r, target, http.StatusSeeOther)
		return nil
	}
	v, err := directory.View(rq.ctx, s.DB, root, s.BaseCurrency)
	if err != nil {
		return err
	}
	pii := rq.who.Can(auth.CustomersPII)
	d := customerData{Customer: v, Email: v.Email, Phone: v.Phone, Undone: rq.r.URL.Query().Get("undone") != ""}
	if !pii {
		d.Email, d.Phone = auth.MaskEmail(v.Email), auth.MaskPhone(v.Phone)
	}
	d.Traits = traitPairs(v.Traits, pii)
	for cat, c := range v.Consent {
		d.Consent = append(d.Consent, consentBadge{Category: cat, Granted: c.Granted})
	}
	slices.SortFunc(d.Consent, func(a, b consentBadge) int { return strings.Compare(a.Category, b.Category) })
	for _, i := range v.Identities {
		r := identityRow{Type: i.Type, Value: i.Value, Original: i.Original, Profile: i.Profile, FirstSeen: i.FirstSeen}
		if !pii {
			r.Value, r.Original = auth.MaskIdentifier(i.Type, i.Value), auth.MaskIdentifier(i.Type, i.Original)
		}
		d.Identities = append(d.Identities, r)
	}
	for _, m := range v.Merges {
		ids := []byte(m.Identifiers)
		if !pii {
			ids = auth.MaskJSON(ids)
		}
		d.Merges = append(d.Merges, mergeRow{Merge: m, Identifiers: string(ids)})
	}
	if v.Stats.Orders > 0 {
		d.AOV = v.Stats.Revenue.Minor / v.Stats.Orders
	}
	if v.Stats.FirstOrderAt != nil {
		d.FirstOrder, d.LastOrder = *v.Stats.FirstOrderAt, *v.Stats.LastOrderAt
	}
	if p := v.Predictions; p.Available {
		d.PAlive, d.ExpectedPurchases = *p.PAlive, *p.ExpectedPurchases
		if p.NextOrderDate != nil {
			d.NextOrder = *p.NextOrderDate
		}
	}
	if d.Timeline, err = s.timeline(rq, root, 0, 0, pii); err != nil {
		return err
	}
	s.render(rq, http.StatusOK, "customer.html", d)
	return nil
}

// timelinePage is how many events the 360 shows at a time.
const timelinePage = 50

func (s *server) customerTimeline(rq *request) error {
	id := rq.r.PathValue("id")
	root, err := identity.Canonical(rq.ctx, s.DB, id)
	if err != nil {
		return err
	}
	var ts, seq int64
	if b := rq.r.URL.Query().Get("before"); b != "" {
		a, c, ok := strings.Cut(b, "_")
		var err1, err2 error
		ts, err1 = strconv.ParseInt(a, 10, 64)
		seq, err2 = strconv.ParseInt(c, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return fault.New(fault.Invalid, "before %q is not a timeline cursor", b)
		}
	}
	t, err := s.timeline(rq, root, ts, seq, rq.who.Can(auth.CustomersPII))
	if err != nil {
		return err
	}
	if rq.htmx() {
		s.renderFragment(rq, http.StatusOK, "customer.html", "timeline-items", t)
		return nil
	}
	p, err := profile.Get(rq.ctx, s.DB, root)
	if err != nil {
		return err
	}
	d := customerData{TimelineOnly: true, Timeline: t}
	d.ID, d.Name = p.ID, p.Name
	s.render(rq, http.StatusOK, "customer.html", d)
	return nil
}

// timeline reads a page of a customer's events, newest first, before the
// cursor (zero: from the newest).
func (s *server) timeline(rq *request, root string, ts, seq int64, pii bool) (timelineData, error) {
	out := timelineData{ID: root}
	entries, err := profile.Timeline(rq.ctx, s.DB, root, ts, seq, timelinePage+1)
	if err != nil {
		return out, err
	}
	if len(entries) > timelinePage {
		entries = entries[:timelinePage]
		last := entries[len(entries)-1]
		out.More = fmt.Sprintf("/customers/%s/timeline?before=%d_%d", url.PathEscape(root), last.Timestamp.UnixMilli(), last.Seq)
	}
	seqs := make([]int64, len(entries))
	for i, e := range entries {
		seqs[i] = e.Seq
	}
	evs, err := event.NewLog(s.DB).BySeq(rq.ctx, seqs)
	if err != nil {
		return out, err
	}
	bySeq := make(map[int64]event.Stored, len(evs))
	for _, e := range evs {
		bySeq[e.Seq] = e
	}
	for _, en := range entries {
		e, ok := bySeq[en.Seq]
		if !ok {
			continue
		}
		body, _ := event.DecodeBody(e.Payload)
		out.Events = append(out.Events, timelineItem{At: e.Timestamp, Channel: body.Channel(e.Channel), Type: e.Type, Name: e.Name,
			Details: eventDetails(e.Payload, pii)})
	}
	return out, nil
}

// maxDetails is how many properties or traits an event shows.
const maxDetails = 8

// eventDetails returns the key details of an event: its properties (track)
// or traits (identify), scalars only, contact details masked without pii.
func eventDetails(payload []byte, pii bool) []pair {
	if !pii {
		payload = auth.MaskJSON(payload)
	}
	var ev struct {
		Properties map[string]any `json:"properties"`
		Traits     map[string]any `json:"traits"`
	}
	if json.Unmarshal(payload, &ev) != nil {
		return nil
	}
	m := ev.Properties
	if len(m) == 0 {
		m = ev.Traits
	}
	return scalars(m)
}

func scalars(m map[string]any) []pair {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []pair
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			out = append(out, pair{k, v})
		case float64, bool:
			out = append(out, pair{k, fmt.Sprint(v)})
		case []any:
			out = append(out, pair{k, fmt.Sprintf("[%d]", len(v))})
		default:
			continue
		}
		if len(out) == maxDetails {
			break
		}
	}
	return out
}

// traitPairs lists a profile's traits, contact details masked without pii.
func traitPairs(raw json.RawMessage, pii bool) []pair {
	b := []byte(raw)
	if !pii {
		b = auth.MaskJSON(b)
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]pair, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if s, ok := v.(string); ok {
			out = append(out, pair{k, s})
			continue
		}
		j, _ := json.Marshal(v)
		out = append(out, pair{k, string(j)})
	}
	return out
}

func (s *server) undoMerge(rq *request) error {
	split, err := process.Unmerge(rq.ctx, s.DB, rq.r.PathValue("id"), s.BaseCurrency, s.Now(), s.Extensions...)
	if err != nil {
		return err
	}
	return s.redirect(rq, "/customers/"+url.PathEscape(split.Kept)+"?undone=1")
}
