package survey

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/go-json-experiment/json/jsontext"
)

// Survey types.
const (
	NPS  = "nps"
	CSAT = "csat"
)

// Responded reports whether a track event of this name is a survey answer.
func Responded(name string) bool {
	return name == "Survey Responded" || name == "Survey Submitted"
}

// maxComment bounds a stored comment, in characters.
const maxComment = 2000

// Answer is a survey answer read from an event's properties.
type Answer struct {
	Type     string
	Score    int
	Comment  string
	Channel  string // as the properties name it ("" when they do not)
	StoreID  string
	SurveyID string
	OrderID  string
}

// Read reads an answer from a Survey Responded event's properties. ok is
// false for survey types this package does not keep; err says why an answer
// cannot be counted.
func Read(p event.Object) (a Answer, ok bool, err error) {
	t, _ := p.String("survey_type")
	a.Type = strings.ToLower(strings.TrimSpace(t))
	if a.Type == "" {
		a.Type = NPS
	}
	if a.Type != NPS && a.Type != CSAT {
		return a, false, nil
	}
	v, present := p["score"]
	if !present || v.Kind() == 'n' {
		return a, true, fmt.Errorf("%s answer needs a score", article(a.Type))
	}
	score, err := integer(v)
	if err != nil {
		return a, true, err
	}
	lo, hi := 0, 10
	if a.Type == CSAT {
		lo, hi = 1, 5
	}
	if score < int64(lo) || score > int64(hi) {
		return a, true, fmt.Errorf("score %d is outside %d-%d for %s survey", score, lo, hi, article(a.Type))
	}
	a.Score = int(score)
	a.Comment, _ = p.String("comment")
	a.Comment = clip(strings.TrimSpace(a.Comment), maxComment)
	// The channel rated: any channel a customer meets (an import is none).
	if c, _ := p.String("channel"); auth.ValidChannel(strings.ToLower(c)) && strings.ToLower(c) != "import" {
		a.Channel = strings.ToLower(c)
	}
	a.StoreID, _ = p.String("store_id")
	a.SurveyID, _ = p.String("survey_id")
	a.OrderID, _ = p.String("order_id")
	a.StoreID, a.SurveyID, a.OrderID = clip(strings.TrimSpace(a.StoreID), 255), clip(a.SurveyID, 255), clip(strings.TrimSpace(a.OrderID), 255)
	return a, true, nil
}

// article names a survey type with its article: "an NPS", "a CSAT".
func article(typ string) string {
	if typ == NPS {
		return "an NPS"
	}
	return "a CSAT"
}

// integer reads a JSON number or numeric string holding a whole number (9,
// "9", 9.0).
func integer(v jsontext.Value) (int64, error) {
	s, ok := event.AsString(v)
	if !ok {
		return 0, fmt.Errorf("score %s is not a number", clipValue(v))
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok || len(s) > 32 {
		return 0, fmt.Errorf("score %q is not a number", clip(s, 32))
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("score %s is not a whole number", s)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("score %s is out of range", clip(s, 32))
	}
	return r.Num().Int64(), nil
}

func clipValue(v jsontext.Value) string {
	return clip(string(v), 40)
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Band names an NPS score's band.
func Band(score int) string {
	switch {
	case score >= 9:
		return "promoter"
	case score >= 7:
		return "passive"
	}
	return "detractor"
}

// NPSScores counts NPS answers.
type NPSScores struct {
	Responses     int      `json:"responses"`
	Promoters     int      `json:"promoters"`
	Passives      int      `json:"passives"`
	Detractors    int      `json:"detractors"`
	PromotersPct  *float64 `json:"promoters_pct" doc:"Share of promoters (9-10), percent, one decimal; null without answers"`
	PassivesPct   *float64 `json:"passives_pct"`
	DetractorsPct *float64 `json:"detractors_pct"`
	NPS           *float64 `json:"nps" doc:"% promoters − % detractors, from the exact counts, one decimal (−100 to 100); null without answers"`
}

// Add counts one answer.
func (s *NPSScores) Add(score int) { s.addN(score, 1) }

func (s *NPSScores) addN(score, n int) {
	s.Responses += n
	switch Band(score) {
	case "promoter":
		s.Promoters += n
	case "passive":
		s.Passives += n
	default:
		s.Detractors += n
	}
}

// finish computes the percentages.
func (s *NPSScores) finish() {
	if s.Responses == 0 {
		return
	}
	n := float64(s.Responses)
	s.PromotersPct = ptr(round1(100 * float64(s.Promoters) / n))
	s.PassivesPct = ptr(round1(100 * float64(s.Passives) / n))
	s.DetractorsPct = ptr(round1(100 * float64(s.Detractors) / n))
	s.NPS = ptr(round1(100 * float64(s.Promoters-s.Detractors) / n))
}

// CSATScores counts CSAT answers.
type CSATScores struct {
	Responses int      `json:"responses"`
	Satisfied int      `json:"satisfied" doc:"Answers scoring 4 or 5"`
	Scores    [5]int   `json:"scores" doc:"Answers scoring 1, 2, 3, 4 and 5"`
	CSAT      *float64 `json:"csat" doc:"Share of satisfied answers (4-5), percent, one decimal; null without answers"`
	Average   *float64 `json:"average" doc:"Mean score, two decimals; null without answers"`
}

// Add counts one answer.
func (s *CSATScores) Add(score int) { s.addN(score, 1) }

func (s *CSATScores) addN(score, n int) {
	s.Responses += n
	s.Scores[score-1] += n
	if score >= 4 {
		s.Satisfied += n
	}
}

func (s *CSATScores) finish() {
	if s.Responses == 0 {
		return
	}
	sum := 0
	for i, n := range s.Scores {
		sum += (i + 1) * n
	}
	s.CSAT = ptr(round1(100 * float64(s.Satisfied) / float64(s.Responses)))
	s.Average = ptr(math.Round(100*float64(sum)/float64(s.Responses)) / 100)
}

func ptr(f float64) *float64 { return &f }

// round1 rounds to one decimal, halves away from zero.
func round1(f float64) float64 { return math.Round(f*10) / 10 }
