// Package identity knows who is who: it turns the identifiers an event carries
// (user id, e-mail, phone, anonymous id, loyalty card, POS customer id, custom
// external ids) into one profile per person.
//
// Guarantees:
//   - Identifiers are normalised before they are compared: e-mail trimmed and
//     lower-cased, phone numbers in E.164; the original spelling is kept.
//   - Blocked values (empty, "null", "-1", "anonymous", 0000…) never link
//     anything.
//   - An event whose identifiers belong to several profiles merges them,
//     unless a rule forbids it: a per-type limit (by default one user_id per
//     person) or an operator's earlier unmerge. Then the lower-priority
//     identifier is dropped from the event and the decision is logged. The
//     profile holding the strongest identifier survives a merge, so a known
//     customer keeps their id when their anonymous history joins them.
//   - An event belongs to the profile that holds its strongest identifier.
//   - Every merge is recorded with its cause and can be undone; an undone pair
//     is never merged again automatically.
//   - Profiles are never deleted by a merge: a merged profile points at its
//     survivor, so its identities, events and orders stay attributable and an
//     unmerge restores them.
package identity

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/nyaruka/phonenumbers"
)

// Identifier types bottega knows by name. Any other lower_snake_case type
// from context.externalIds is a custom identifier.
const (
	UserID        = "user_id"
	Email         = "email"
	Phone         = "phone"
	AnonymousID   = "anonymous_id"
	LoyaltyCard   = "loyalty_card"
	POSCustomerID = "pos_customer_id"
)

// Identifier is one identifier of a person.
type Identifier struct {
	Type     string `json:"type"`
	Value    string `json:"value"`              // normalised
	Original string `json:"original,omitempty"` // as received
}

func (id Identifier) key() key { return key{id.Type, id.Value} }

type key struct{ typ, value string }

// TypeRule governs one identifier type.
type TypeRule struct {
	Type     string   `json:"type"`
	Priority int      `json:"priority"`         // 1 is the strongest
	Limit    int      `json:"limit"`            // identifiers of this type one person may have
	Window   Duration `json:"window,omitempty"` // if set, the limit counts only identifiers first seen within it of the event
}

// Rules configure identity resolution.
type Rules struct {
	Types           []TypeRule `json:"types"`
	Custom          TypeRule   `json:"custom"` // for types not listed
	BlockedValues   []string   `json:"blocked_values"`
	BlockedPatterns []string   `json:"blocked_patterns"`
	PhoneRegion     string     `json:"phone_region"` // default country for numbers without +prefix

	blocked  map[string]bool
	patterns []*regexp.Regexp
	byType   map[string]TypeRule
}

// DefaultRules are bottega's identity rules out of the box: one user_id per
// person; a few e-mails, phones and cards; at most five new anonymous ids a
// week, so that a shared family tablet does not fold a household into one
// person.
func DefaultRules(phoneRegion string) Rules {
	r := Rules{
		Types: []TypeRule{
			{Type: UserID, Priority: 1, Limit: 1},
			{Type: Email, Priority: 2, Limit: 3},
			{Type: Phone, Priority: 3, Limit: 3},
			{Type: LoyaltyCard, Priority: 4, Limit: 3},
			{Type: POSCustomerID, Priority: 5, Limit: 3},
			{Type: AnonymousID, Priority: 9, Limit: 5, Window: Duration(7 * 24 * time.Hour)},
		},
		Custom:          TypeRule{Priority: 6, Limit: 5},
		BlockedValues:   []string{"null", "nil", "none", "undefined", "anonymous", "unknown", "guest", "n/a", "na", "-1", "test", "[object object]", "nan", "false", "true"},
		BlockedPatterns: []string{`^[0\-. ]*$`},
	}
	if err := r.Compile(); err != nil {
		panic(err) // the defaults are valid by construction; a test checks it
	}
	// The region is the caller's (a setting validated where it is read); an
	// unknown one only means numbers without +prefix are not recognised.
	r.PhoneRegion = strings.ToUpper(phoneRegion)
	return r
}

var typeName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Compile validates the rules and prepares them for use.
func (r *Rules) Compile() error {
	r.byType = map[string]TypeRule{}
	for _, t := range r.Types {
		if !typeName.MatchString(t.Type) {
			return fault.New(fault.Invalid, "identifier type %q must be lower_snake_case", t.Type)
		}
		if t.Priority < 1 || t.Limit < 1 {
			return fault.New(fault.Invalid, "identifier type %q needs a priority and a limit of at least 1", t.Type)
		}
		if _, dup := r.byType[t.Type]; dup {
			return fault.New(fault.Invalid, "identifier type %q is listed twice", t.Type)
		}
		r.byType[t.Type] = t
	}
	for _, must := range []string{UserID, AnonymousID} {
		if _, ok := r.byType[must]; !ok {
			return fault.New(fault.Invalid, "the rules must cover %s", must)
		}
	}
	if r.Custom.Priority < 1 || r.Custom.Limit < 1 {
		return fault.New(fault.Invalid, "custom identifiers need a priority and a limit of at least 1")
	}
	r.blocked = map[string]bool{"": true}
	for _, v := range r.BlockedValues {
		r.blocked[strings.ToLower(strings.TrimSpace(v))] = true
	}
	r.patterns = nil
	for _, p := range r.BlockedPatterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return fault.New(fault.Invalid, "blocked pattern %q: %v", p, err)
		}
		r.patterns = append(r.patterns, re)
	}
	if r.PhoneRegion != "" && len(phonenumbers.GetSupportedRegions()) > 0 {
		if _, ok := phonenumbers.GetSupportedRegions()[strings.ToUpper(r.PhoneRegion)]; !ok {
			return fault.New(fault.Invalid, "phone region %q is not a known country code", r.PhoneRegion)
		}
		r.PhoneRegion = strings.ToUpper(r.PhoneRegion)
	}
	return nil
}

// Rule returns the rule for an identifier type.
func (r *Rules) Rule(typ string) TypeRule {
	if t, ok := r.byType[typ]; ok {
		return t
	}
	t := r.Custom
	t.Type = typ
	return t
}

// Blocked reports whether a normalised value may never link profiles.
func (r *Rules) Blocked(value string) bool {
	if r.blocked[strings.ToLower(value)] {
		return true
	}
	for _, re := range r.patterns {
		if re.MatchString(value) {
			return true
		}
	}
	return false
}

// Rejected is an identifier an event carried that cannot be used, and why.
type Rejected struct {
	Identifier
	Reason string
}

// Normalize returns the canonical form of an identifier value, or an error
// saying why it is not usable.
func (r *Rules) Normalize(typ, value string) (string, error) {
	v := strings.TrimSpace(value)
	switch typ {
	case Email:
		v = strings.ToLower(v)
		at := strings.LastIndexByte(v, '@')
		if at <= 0 || at == len(v)-1 || len(v) > 254 || strings.ContainsAny(v, " \t\r\n<>,;\"") || !strings.Contains(v[at:], ".") {
			return "", fmt.Errorf("%q is not an e-mail address", clip(value))
		}
	case Phone:
		var n phonenumbers.PhoneNumber
		if err := phonenumbers.ParseToNumber(v, r.PhoneRegion, &n); err != nil || !phonenumbers.IsValidNumber(&n) {
			return "", fmt.Errorf("%q is not a valid phone number", clip(value))
		}
		v = phonenumbers.Format(&n, phonenumbers.E164)
	case LoyaltyCard:
		v = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(v))
	}
	if r.Blocked(v) {
		return "", fmt.Errorf("%q is a blocked value", clip(value))
	}
	if len(v) > 255 {
		return "", fmt.Errorf("the value is longer than 255 bytes")
	}
	return v, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Candidates normalises the raw identifiers of an event, dropping unusable
// ones (returned as rejected) and repeats, and orders them by priority.
func (r *Rules) Candidates(raw []Identifier) (ids []Identifier, rejected []Rejected) {
	seen := map[key]bool{}
	for _, id := range raw {
		if id.Original == "" {
			id.Original = id.Value
		}
		v, err := r.Normalize(id.Type, id.Original)
		if err != nil {
			if strings.TrimSpace(id.Original) != "" {
				rejected = append(rejected, Rejected{Identifier: id, Reason: err.Error()})
			}
			continue
		}
		id.Value = v
		if seen[id.key()] {
			continue
		}
		seen[id.key()] = true
		ids = append(ids, id)
	}
	slices.SortStableFunc(ids, func(a, b Identifier) int {
		return cmp.Compare(r.Rule(a.Type).Priority, r.Rule(b.Type).Priority)
	})
	return ids, rejected
}

// Duration is a time.Duration written as "168h" in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	if d == 0 {
		return []byte(`""`), nil
	}
	return json.Marshal(time.Duration(d).String())
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fault.New(fault.Invalid, "a window is a duration such as \"168h\"")
	}
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fault.New(fault.Invalid, "window %q is not a duration such as \"168h\"", s)
	}
	*d = Duration(v)
	return nil
}
