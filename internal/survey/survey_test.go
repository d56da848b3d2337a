package survey

import (
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/event"
)

func props(t *testing.T, s string) event.Object {
	t.Helper()
	b, err := event.DecodeBody([]byte(`{"properties":` + s + `}`))
	if err != nil {
		t.Fatal(err)
	}
	return b.Properties
}

func TestRead(t *testing.T) {
	for _, c := range []struct {
		props string
		want  Answer
		skip  bool
		err   string
	}{
		{props: `{"score":9}`, want: Answer{Type: NPS, Score: 9}},
		{props: `{"score":0,"survey_type":"NPS","comment":"  lento  ","channel":"POS","store_id":"MI"}`, want: Answer{Type: NPS, Score: 0, Comment: "lento", Channel: "pos", StoreID: "MI"}},
		{props: `{"score":"10","survey_type":"nps","order_id":"W1","channel":"whatsapp"}`, want: Answer{Type: NPS, Score: 10, OrderID: "W1"}},
		{props: `{"score":9.0}`, want: Answer{Type: NPS, Score: 9}},
		{props: `{"score":5,"survey_type":"csat","survey_id":"s1"}`, want: Answer{Type: CSAT, Score: 5, SurveyID: "s1"}},
		{props: `{"score":3,"survey_type":"ces"}`, skip: true},
		{props: `{"score":11}`, err: "score 11 is outside 0-10 for an NPS survey"},
		{props: `{"score":-1}`, err: "score -1 is outside 0-10"},
		{props: `{"score":7.5}`, err: "score 7.5 is not a whole number"},
		{props: `{"score":"great"}`, err: `score "great" is not a number`},
		{props: `{"score":true}`, err: "score true is not a number"},
		{props: `{"score":null}`, err: "an NPS answer needs a score"},
		{props: `{}`, err: "an NPS answer needs a score"},
		{props: `{"score":0,"survey_type":"csat"}`, err: "score 0 is outside 1-5 for a CSAT survey"},
		{props: `{"score":6,"survey_type":"csat"}`, err: "score 6 is outside 1-5"},
	} {
		a, ok, err := Read(props(t, c.props))
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.props, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.props, err)
		case ok == c.skip:
			t.Errorf("%s: ok %v", c.props, ok)
		case !c.skip && a != c.want:
			t.Errorf("%s: %+v, want %+v", c.props, a, c.want)
		}
	}
}

func TestScores(t *testing.T) {
	var n NPSScores
	for _, s := range []int{10, 9, 7, 3, 6, 9, 8} {
		n.Add(s)
	}
	n.finish()
	// 3 promoters, 2 passives, 2 detractors of 7: 42.857…% − 28.571…% = 14.285…
	if n.Promoters != 3 || n.Passives != 2 || n.Detractors != 2 || *n.NPS != 14.3 || *n.PromotersPct != 42.9 || *n.PassivesPct != 28.6 || *n.DetractorsPct != 28.6 {
		t.Fatalf("%+v", n)
	}
	var c CSATScores
	for _, s := range []int{5, 4, 1, 2} {
		c.Add(s)
	}
	c.finish()
	if c.Satisfied != 2 || *c.CSAT != 50 || *c.Average != 3 || c.Scores != [5]int{1, 1, 0, 1, 1} {
		t.Fatalf("%+v", c)
	}
	var empty NPSScores
	empty.finish()
	if empty.NPS != nil {
		t.Fatal("NPS without answers")
	}
}
