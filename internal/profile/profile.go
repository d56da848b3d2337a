// Package profile keeps what bottega knows about each person: traits, consent
// preferences seen on events, first-touch acquisition, when they were first
// and last seen, and the timeline of their events across channels.
//
// Guarantees:
//   - Traits are applied in event-time order, key by key: an older event
//     processed late never overwrites a newer value.
//   - A canonical profile's traits are those of all its merged members, and
//     can always be rebuilt from their events (after an unmerge, say).
//   - context.consent.categoryPreferences (Segment's consent object) is kept
//     per category with the time it was expressed.
package profile

import (
	"strings"
	"unicode"

	"github.com/bottega-crm/bottega/internal/event"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// Consent is one consent category's latest preference.
type Consent struct {
	Granted bool  `json:"granted"`
	At      int64 `json:"at"` // event time, Unix ms
}

// Touch is a marketing touch point, from context.campaign (UTM).
type Touch struct {
	Source  string `json:"source,omitempty"`
	Medium  string `json:"medium,omitempty"`
	Name    string `json:"name,omitempty"`
	Term    string `json:"term,omitempty"`
	Content string `json:"content,omitempty"`
	Channel string `json:"channel,omitempty"`
	At      int64  `json:"at"`
}

// State is a canonical profile's data while events are applied to it.
type State struct {
	ID          string
	FirstSeen   int64
	LastSeen    int64
	Traits      map[string]jsontext.Value
	TraitTimes  map[string]int64
	Consent     map[string]Consent
	Acquisition *Touch

	seenDirty bool      // first or last seen changed
	dataDirty bool      // traits, consent or acquisition changed
	acqDirty  bool      // the first touch changed
	isNew     bool      // created in this batch: nothing to unindex
	indexed   [3]string // name, e-mail and phone as last indexed for search
}

// NewState returns an empty state for profile id.
func NewState(id string) *State {
	return &State{ID: id, Traits: map[string]jsontext.Value{}, TraitTimes: map[string]int64{}, Consent: map[string]Consent{}}
}

// Apply folds one event, attributed to this profile, into the state.
func (s *State) Apply(ev event.Stored, b event.Body) {
	at := ev.Timestamp.UnixMilli()
	if s.FirstSeen == 0 || at < s.FirstSeen {
		s.FirstSeen, s.seenDirty = at, true
	}
	if at > s.LastSeen {
		s.LastSeen, s.seenDirty = at, true
	}
	if ev.Type == event.Identify {
		s.setTraits(b.Traits, at)
	}
	s.setTraits(b.ContextTraits(), at)
	if c := b.Context.Object("consent").Object("categoryPreferences"); c != nil {
		for cat, v := range c {
			var granted bool
			if jsonv2.Unmarshal(v, &granted) != nil || len(cat) > 100 {
				continue
			}
			if old, ok := s.Consent[cat]; !ok || at >= old.At {
				s.Consent[cat] = Consent{Granted: granted, At: at}
				s.dataDirty = true
			}
		}
	}
	if c := b.Context.Object("campaign"); c != nil {
		t := Touch{Channel: b.Channel(ev.Channel), At: at}
		t.Source, _ = c.String("source")
		t.Medium, _ = c.String("medium")
		t.Name, _ = c.String("name")
		t.Term, _ = c.String("term")
		t.Content, _ = c.String("content")
		if (t.Source != "" || t.Name != "") && (s.Acquisition == nil || at < s.Acquisition.At) {
			s.Acquisition = &t
			s.dataDirty, s.acqDirty = true, true
		}
	}
}

func (s *State) setTraits(traits event.Object, at int64) {
	for k, v := range traits {
		if old, ok := s.TraitTimes[k]; ok && at < old {
			continue
		}
		s.Traits[k] = v
		s.TraitTimes[k] = at
		s.dataDirty = true
	}
}

// Absorb folds the state of a profile merged into this one.
func (s *State) Absorb(o *State) {
	if o.FirstSeen != 0 && (s.FirstSeen == 0 || o.FirstSeen < s.FirstSeen) {
		s.FirstSeen = o.FirstSeen
	}
	s.LastSeen = max(s.LastSeen, o.LastSeen)
	for k, v := range o.Traits {
		if old, ok := s.TraitTimes[k]; !ok || o.TraitTimes[k] > old {
			s.Traits[k] = v
			s.TraitTimes[k] = o.TraitTimes[k]
		}
	}
	for cat, c := range o.Consent {
		if old, ok := s.Consent[cat]; !ok || c.At > old.At {
			s.Consent[cat] = c
		}
	}
	if o.Acquisition != nil && (s.Acquisition == nil || o.Acquisition.At < s.Acquisition.At) {
		s.Acquisition = o.Acquisition
		s.acqDirty = true
	}
	s.seenDirty, s.dataDirty = true, true
}

func (s *State) trait(names ...string) string {
	for _, n := range names {
		if v, ok := event.AsString(s.Traits[n]); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Name is the person's display name from their traits.
func (s *State) Name() string {
	if n := s.trait("name"); n != "" {
		return n
	}
	return strings.TrimSpace(s.trait("first_name", "firstName") + " " + s.trait("last_name", "lastName"))
}

// Email and Phone are the contact details from traits, as given.
func (s *State) Email() string { return s.trait("email") }
func (s *State) Phone() string { return s.trait("phone") }

// terms returns the words a profile is found by: name words, e-mail and
// phone digits, folded.
func (s *State) terms() []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if t != "" && len(t) <= 200 && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, w := range Words(s.Name()) {
		add(w)
	}
	if e := strings.ToLower(s.Email()); e != "" {
		add(e)
	}
	if p := s.Phone(); p != "" {
		add(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, p))
		// Also the number without its country code, as people type it.
		var n phonenumbers.PhoneNumber
		if phonenumbers.ParseToNumber(p, "", &n) == nil {
			add(phonenumbers.GetNationalSignificantNumber(&n))
		}
	}
	return out
}

// Words splits text into lower-case words without accents, for search.
func Words(text string) []string {
	folded := strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return unicode.ToLower(r)
	}, norm.NFD.String(text))
	return strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '@' && r != '.' && r != '_' && r != '+' && r != '-'
	})
}

func marshal(v any) string {
	b, err := jsonv2.Marshal(v, jsonv2.Deterministic(true))
	if err != nil {
		return "{}"
	}
	return string(b)
}

func unmarshalInto(s string, v any) {
	if s != "" {
		_ = jsonv2.Unmarshal([]byte(s), v)
	}
}
