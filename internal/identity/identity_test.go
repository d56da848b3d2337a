package identity

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	r := DefaultRules("IT")
	for _, tc := range []struct {
		typ, in, want string
		bad           bool
	}{
		{Email, "  Mario.Rossi@Example.COM ", "mario.rossi@example.com", false},
		{Email, "mario", "", true},
		{Email, "a@b", "", true},
		{Email, "a b@c.it", "", true},
		{Phone, "333 123 4567", "+393331234567", false},
		{Phone, "+39 333-123-4567", "+393331234567", false},
		{Phone, "0039 333 1234567", "+393331234567", false},
		{Phone, "+41 44 668 18 00", "+41446681800", false},
		{Phone, "12", "", true},
		{Phone, "call me", "", true},
		{LoyaltyCard, " lc 0042-17 ", "LC004217", false},
		{UserID, " u-1 ", "u-1", false},
		{UserID, "null", "", true},
		{UserID, "NULL", "", true},
		{UserID, "-1", "", true},
		{UserID, "0", "", true},
		{UserID, "0000-0000", "", true},
		{UserID, "anonymous", "", true},
		{UserID, "10", "10", false},
		{AnonymousID, "undefined", "", true},
		{"member_no", strings.Repeat("9", 300), "", true},
	} {
		got, err := r.Normalize(tc.typ, tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q, bad %v", tc.typ, tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestCandidatesOrderAndDedupe(t *testing.T) {
	r := DefaultRules("IT")
	ids, rejected := r.Candidates([]Identifier{
		{Type: AnonymousID, Original: "a1"}, {Type: Email, Original: "X@Y.it"}, {Type: UserID, Original: "u"},
		{Type: Email, Original: "x@y.it "}, {Type: Phone, Original: "nope"}, {Type: "member_no", Original: "M1"},
	})
	var got []string
	for _, id := range ids {
		got = append(got, id.Type+"="+id.Value)
	}
	if fmt.Sprint(got) != "[user_id=u email=x@y.it member_no=M1 anonymous_id=a1]" {
		t.Fatalf("candidates %v", got)
	}
	if len(rejected) != 1 || rejected[0].Type != Phone {
		t.Fatalf("rejected %+v", rejected)
	}
}

func TestRulesValidation(t *testing.T) {
	for _, bad := range []Rules{
		{Types: []TypeRule{{Type: UserID, Priority: 1, Limit: 1}}, Custom: TypeRule{Priority: 5, Limit: 5}},                                                // no anonymous_id
		{Types: []TypeRule{{Type: UserID, Priority: 1, Limit: 0}, {Type: AnonymousID, Priority: 9, Limit: 5}}, Custom: TypeRule{Priority: 5, Limit: 5}},    // zero limit
		{Types: []TypeRule{{Type: "User ID", Priority: 1, Limit: 1}, {Type: AnonymousID, Priority: 9, Limit: 5}}, Custom: TypeRule{Priority: 5, Limit: 5}}, // bad name
		{Types: []TypeRule{{Type: UserID, Priority: 1, Limit: 1}, {Type: AnonymousID, Priority: 9, Limit: 5}}, Custom: TypeRule{Priority: 5, Limit: 5}, PhoneRegion: "XX"},
		{Types: []TypeRule{{Type: UserID, Priority: 1, Limit: 1}, {Type: AnonymousID, Priority: 9, Limit: 5}}, Custom: TypeRule{Priority: 5, Limit: 5}, BlockedPatterns: []string{"("}},
	} {
		if err := bad.Compile(); err == nil {
			t.Errorf("rules %+v accepted", bad)
		}
	}
	if r := DefaultRules("XX"); r.PhoneRegion != "XX" || r.Compile() == nil {
		t.Fatalf("an unknown region passed validation")
	}
	r := DefaultRules("it")
	if r.PhoneRegion != "IT" || r.Rule("loyalty_card").Limit != 3 || r.Rule("member_no").Priority != 6 {
		t.Fatalf("defaults %+v", r)
	}
}

// fakeGraph is an in-memory graph for decide.
type fakeGraph struct {
	owner_  map[key]string // identifier → profile (profiles are their own roots here)
	idents  map[string][]known
	blocks  map[[2]string]bool
	queried int
}

func (f *fakeGraph) owner(id Identifier) (string, string, error) {
	p := f.owner_[id.key()]
	return p, p, nil
}
func (f *fakeGraph) group(root string) (*group, error) {
	f.queried++
	return &group{root: root, idents: f.idents[root]}, nil
}
func (f *fakeGraph) blocked(a, b string) (bool, error) {
	return f.blocks[[2]string{a, b}] || f.blocks[[2]string{b, a}], nil
}

func TestDecide(t *testing.T) {
	at := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	old, recent := at.Add(-30*24*time.Hour).UnixMilli(), at.Add(-time.Hour).UnixMilli()
	g := &fakeGraph{
		owner_: map[key]string{
			{UserID, "dad"}: "P1", {AnonymousID, "tablet"}: "P1", {Email, "dad@x.it"}: "P1",
			{UserID, "mum"}:        "P2",
			{AnonymousID, "kiosk"}: "P3",
			{Email, "split@x.it"}:  "P4", {AnonymousID, "split"}: "P5",
		},
		idents: map[string][]known{
			"P1": {{UserID, old}, {AnonymousID, old}, {Email, old}},
			"P2": {{UserID, old}},
			"P3": {{AnonymousID, recent}, {AnonymousID, recent}, {AnonymousID, recent}, {AnonymousID, recent}, {AnonymousID, recent}},
		},
		blocks: map[[2]string]bool{{"P4", "P5"}: true},
	}
	r := DefaultRules("IT")
	id := func(typ, v string) Identifier { return Identifier{Type: typ, Value: v, Original: v} }
	for _, tc := range []struct {
		name                   string
		ids                    []Identifier
		roots, attach, dropped string
	}{
		{"known person", []Identifier{id(UserID, "dad"), id(AnonymousID, "tablet")}, "[P1]", "[]", "[]"},
		{"new person", []Identifier{id(UserID, "kid"), id(AnonymousID, "new")}, "[]", "[user_id anonymous_id]", "[]"},
		{"new e-mail for a known person", []Identifier{id(UserID, "dad"), id(Email, "dad2@x.it")}, "[P1]", "[email]", "[]"},
		{"anonymous joins login", []Identifier{id(UserID, "mum"), id(AnonymousID, "kiosk")}, "[P2 P3]", "[]", "[]"},
		{"shared tablet: second user keeps the tablet off", []Identifier{id(UserID, "mum"), id(AnonymousID, "tablet")}, "[P2]", "[]", "[anonymous_id]"},
		{"new user on a known tablet", []Identifier{id(UserID, "kid"), id(AnonymousID, "tablet")}, "[]", "[user_id]", "[anonymous_id]"},
		{"anonymous id limit within the window", []Identifier{id(AnonymousID, "kiosk"), id(AnonymousID, "sixth")}, "[P3]", "[]", "[anonymous_id]"},
		{"operator split", []Identifier{id(Email, "split@x.it"), id(AnonymousID, "split")}, "[P4]", "[]", "[anonymous_id]"},
	} {
		d, err := decide(tc.ids, &r, at, g)
		if err != nil {
			t.Fatal(err)
		}
		var attach, dropped []string
		for _, a := range d.attach {
			attach = append(attach, a.Type)
		}
		for _, x := range d.drops {
			dropped = append(dropped, x.Type)
		}
		if fmt.Sprint(d.roots) != tc.roots || fmt.Sprint(attach) != fmt.Sprint(tc.attach) && !(len(attach) == 0 && tc.attach == "[]") || fmt.Sprint(dropped) != tc.dropped && !(len(dropped) == 0 && tc.dropped == "[]") {
			t.Errorf("%s: roots %v attach %v dropped %v (%+v); want %s %s %s", tc.name, d.roots, attach, dropped, d.drops, tc.roots, tc.attach, tc.dropped)
		}
	}
	g.queried = 0
	if _, err := decide([]Identifier{id(UserID, "dad"), id(Email, "dad@x.it")}, &r, at, g); err != nil || g.queried != 0 {
		t.Fatalf("a known person's event read %d groups", g.queried)
	}
}
