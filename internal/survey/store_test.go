package survey_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/identity"
	pt "github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
	"github.com/bottega-crm/bottega/internal/survey"
)

func answer(id, who, day string, score, extra string) string {
	kv := []string{"type", pt.Q("track"), "messageId", pt.Q(id), "event", pt.Q("Survey Responded"), "timestamp", pt.At(day, 600)}
	k, v, _ := strings.Cut(who, "=")
	kv = append(kv, k, pt.Q(v))
	p := `{"score":` + score
	if extra != "" {
		p += "," + extra
	}
	return pt.Ev(append(kv, "properties", p+"}")...)
}

func order(id, who, day, orderID, extra string) string {
	k, v, _ := strings.Cut(who, "=")
	return pt.Ev("type", pt.Q("track"), "messageId", pt.Q(id), "event", pt.Q("Order Completed"), "timestamp", pt.At(day, 600), k, pt.Q(v),
		"properties", `{"order_id":"`+orderID+`","total":20`+extra+`}`)
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

func nps(s survey.Scores) float64 {
	if s.NPS.NPS == nil {
		return -999
	}
	return *s.NPS.NPS
}

// Answers recorded through the real processing path: NPS and CSAT of a
// period by channel, store and month, invalid scores as failures, every
// response counted, comments newest first with paging, and the answers of a
// merged profile belonging to the survivor (and back after an unmerge).
func TestSurveyReport(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := pt.New(t, db, survey.NewRecorder())
		h.Send("web", order("o1", "userId=u1", "2025-03-01", "W1", ""))
		h.Send("pos", order("o2", "anonymousId=card-3", "2025-03-08", "P1", `,"store_id":"MI"`))
		h.Send("web",
			answer("s1", "anonymousId=anon-1", "2025-03-02", "10", `"comment":"Ottimo","order_id":"W1"`),
			answer("s2", "userId=u2", "2025-03-05", "9", `"channel":"app"`),
			answer("s3", "anonymousId=a3", "2025-03-10", "7", `"order_id":"P1","survey_type":"nps"`),
			answer("s4", "userId=u1", "2025-04-02", "3", `"comment":"Ritardo"`),
			answer("s6", "userId=u5", "2025-04-05", `"9"`, ""),
			answer("s7", "userId=u6", "2025-05-01", "0", `"comment":"fuori periodo"`),
			answer("s8", "userId=u6", "2025-03-20", "3", `"survey_type":"ces"`),
			// Not counted: failures.
			answer("x1", "userId=u7", "2025-03-03", "11", ""),
			answer("x2", "userId=u7", "2025-03-03", "7.5", ""),
			answer("x3", "userId=u7", "2025-03-03", `"abc"`, ""),
			answer("x4", "userId=u7", "2025-03-03", "0", `"survey_type":"csat"`),
			answer("x5", "userId=u7", "2025-03-03", "6", `"survey_type":"csat"`),
			answer("x6", "userId=u7", "2025-03-03", "null", ""),
		)
		h.Send("pos", answer("s5", "anonymousId=card-4", "2025-04-03", "6", `"comment":"Meh","store_id":"TO"`))
		h.Send("care",
			answer("c1", "anonymousId=care-1", "2025-03-03", "5", `"survey_type":"csat"`),
			answer("c2", "anonymousId=care-2", "2025-04-04", "2", `"survey_type":"csat","comment":"Lento"`))
		// anon-1 turns out to be u1: the two answers are one customer's.
		h.Send("web", pt.Ev("type", pt.Q("identify"), "messageId", pt.Q("i1"), "userId", pt.Q("u1"), "anonymousId", pt.Q("anon-1"), "timestamp", pt.At("2025-04-10", 0)))

		errs := h.Errors()
		for id, want := range map[string]string{
			"x1": "Survey Responded not recorded: score 11 is outside 0-10 for an NPS survey",
			"x2": "Survey Responded not recorded: score 7.5 is not a whole number",
			"x3": `Survey Responded not recorded: score "abc" is not a number`,
			"x4": "Survey Responded not recorded: score 0 is outside 1-5 for a CSAT survey",
			"x5": "Survey Responded not recorded: score 6 is outside 1-5 for a CSAT survey",
			"x6": "Survey Responded not recorded: an NPS answer needs a score",
		} {
			if errs[id] != want {
				t.Errorf("%s: error %q, want %q", id, errs[id], want)
			}
		}
		if len(errs) != 6 {
			t.Errorf("errors %v", errs)
		}

		p := period(t, "2025-03-01", "2025-04-30")
		r, err := survey.Summarise(h.Ctx, db, p, "")
		if err != nil {
			t.Fatal(err)
		}
		// NPS answers 10 9 7 3 9 6: 3 promoters, 1 passive, 2 detractors of 6.
		n := r.NPS
		if n.Responses != 6 || n.Promoters != 3 || n.Passives != 1 || n.Detractors != 2 || *n.NPS != 16.7 || *n.PromotersPct != 50 || *n.PassivesPct != 16.7 || *n.DetractorsPct != 33.3 {
			t.Fatalf("NPS %+v", n)
		}
		if c := r.CSAT; c.Responses != 2 || c.Satisfied != 1 || *c.CSAT != 50 || *c.Average != 3.5 {
			t.Fatalf("CSAT %+v", c)
		}
		// March: 10 9 7 → 66.7; April: 3 9 6 → −33.3.
		if len(r.Trend) != 2 || r.Trend[0].Key != "2025-03" || nps(r.Trend[0].Scores) != 66.7 || r.Trend[1].Key != "2025-04" || nps(r.Trend[1].Scores) != -33.3 ||
			r.Trend[0].CSAT.Responses != 1 || r.Trend[1].CSAT.Responses != 1 {
			t.Fatalf("trend %+v", r.Trend)
		}
		want := map[string]map[string]float64{
			// web: 10 (order W1), 3, 9; app: 9; pos: 7 (order P1), 6; care: CSAT only.
			survey.ByChannel: {"web": 33.3, "app": 100, "pos": -50, "care": -999},
			// MI: 7 (order P1's store); TO: 6; none: 10 9 3 9.
			survey.ByStore: {"MI": 0, "TO": -100, survey.NoKey: 50},
			survey.ByMonth: {"2025-03": 66.7, "2025-04": -33.3},
		}
		for by, groups := range want {
			r, err := survey.Summarise(h.Ctx, db, p, by)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, g := range r.Groups {
				got[g.Key] = nps(g.Scores)
			}
			if len(got) != len(groups) {
				t.Errorf("by %s: %v, want %v", by, got, groups)
			}
			for k, v := range groups {
				if got[k] != v {
					t.Errorf("by %s: %v, want %v", by, got, groups)
				}
			}
		}
		if _, err := survey.Summarise(h.Ctx, db, p, "campaign"); err == nil || !strings.Contains(err.Error(), "by must be channel, store or month") {
			t.Fatalf("unknown breakdown: %v", err)
		}

		// Comments, newest first, three a page.
		u1 := h.Root(identity.UserID, "u1")
		page, err := survey.ListComments(h.Ctx, db, p, 3, "")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range page.Comments {
			got = append(got, c.Comment)
		}
		if strings.Join(got, ",") != "Lento,Meh,Ritardo" || page.Next == "" || page.Comments[2].Profile != u1 || page.Comments[1].StoreID != "TO" {
			t.Fatalf("first page %+v", page)
		}
		page, err = survey.ListComments(h.Ctx, db, p, 3, page.Next)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Comments) != 1 || page.Comments[0].Comment != "Ottimo" || page.Comments[0].Profile != u1 || page.Comments[0].Channel != "web" || page.Next != "" {
			t.Fatalf("second page %+v", page)
		}
		if _, err := survey.ListComments(h.Ctx, db, p, 3, "nope"); err == nil {
			t.Fatal("a bad cursor is accepted")
		}

		// One score per person: the latest.
		latest, err := survey.LatestNPS(h.Ctx, db, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 6 || latest[u1] != 3 || latest[h.Root(identity.UserID, "u6")] != 0 || latest[h.Root(identity.AnonymousID, "a3")] != 7 {
			t.Fatalf("latest %v", latest)
		}
		asOf, _ := time.Parse(time.DateOnly, "2025-03-31")
		if latest, err = survey.LatestNPS(h.Ctx, db, asOf); err != nil || len(latest) != 3 || latest[u1] != 10 {
			t.Fatalf("latest as of March: %v %v", latest, err)
		}

		// Undoing the merge gives the first answer back to the anonymous profile.
		h.Unmerge(u1)
		anon := h.Root(identity.AnonymousID, "anon-1")
		page, _ = survey.ListComments(h.Ctx, db, p, 10, "")
		if anon == h.Root(identity.UserID, "u1") || page.Comments[3].Profile != anon || page.Comments[2].Profile != h.Root(identity.UserID, "u1") {
			t.Fatalf("after unmerge %+v", page)
		}
	})
}
