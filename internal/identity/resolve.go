package identity

import (
	"fmt"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
)

// FromEvent lists the identifiers an event carries, unnormalised: userId,
// anonymousId, the e-mail, phone and loyalty card in traits or
// context.traits, and context.externalIds. An alias's previousId is resolved
// separately (see Graph.Resolve).
func FromEvent(ev event.Stored, b event.Body) []Identifier {
	var ids []Identifier
	add := func(typ, v string) {
		if strings.TrimSpace(v) != "" {
			ids = append(ids, Identifier{Type: typ, Original: v})
		}
	}
	add(UserID, ev.UserID)
	add(AnonymousID, ev.AnonymousID)
	personal := []event.Object{b.ContextTraits()}
	if ev.Type != event.Group { // a group call's traits describe the group
		personal = append(personal, b.Traits)
	}
	for _, traits := range personal {
		if s, ok := traits.String("email"); ok {
			add(Email, s)
		}
		if s, ok := traits.String("phone"); ok {
			add(Phone, s)
		}
		if s, ok := traits.String("loyalty_card"); ok {
			add(LoyaltyCard, s)
		}
	}
	for _, x := range b.ExternalIDs() {
		if x.Collection != "" && x.Collection != "users" {
			continue
		}
		typ := strings.ToLower(strings.TrimSpace(x.Type))
		switch typ {
		case "user_id", "userid":
			typ = UserID
		case "anonymous_id", "anonymousid":
			typ = AnonymousID
		}
		if !typeName.MatchString(typ) {
			continue
		}
		add(typ, x.ID)
	}
	return ids
}

// group is what resolution needs to know of one canonical profile.
type group struct {
	root   string
	idents []known // identities of all its member profiles
}

type known struct {
	typ       string
	firstSeen int64
}

// count returns how many identifiers of the rule's type the group holds that
// count against its limit for an event at time at: all of them, or with a
// window those first seen within the window before or after at (events are
// processed in arrival order, so a late event's neighbours may be newer).
func count(idents []known, rule TypeRule, at time.Time) int {
	n := 0
	t, w := at.UnixMilli(), time.Duration(rule.Window).Milliseconds()
	for _, k := range idents {
		if k.typ == rule.Type && (w == 0 || k.firstSeen > t-w && k.firstSeen < t+w) {
			n++
		}
	}
	return n
}

// Drop is an identifier resolution kept off the profile, and why.
type Drop struct {
	Identifier
	Reason string
}

// Link is an identifier that tied an event to an existing profile.
type Link struct {
	Identifier
	Profile string // raw profile that owns it
	Root    string // its canonical profile before the event
}

// decision is the outcome of resolving one event, before it is written.
type decision struct {
	roots  []string     // canonical profiles involved, by their strongest identifier
	links  []Link       // accepted identifiers that matched a profile
	attach []Identifier // accepted identifiers seen for the first time
	drops  []Drop
}

// lookup answers, for the decision, what the graph holds.
type lookup interface {
	owner(id Identifier) (profile, root string, err error)
	group(root string) (*group, error)
	blocked(a, b string) (bool, error)
}

// decide resolves the identifiers of one event (normalised, by priority)
// against the graph, following the Segment Unify model: identifiers are
// taken strongest first; one that would join a profile beyond a type's limit,
// or join profiles an operator split, is dropped with its reason.
func decide(ids []Identifier, rules *Rules, at time.Time, g lookup) (decision, error) {
	// The common case: every identifier already belongs to the same person.
	if d, ok, err := known1(ids, g); err != nil || ok {
		return d, err
	}
	var (
		d      decision
		idents []known // identities of the profiles joined so far, plus accepted new ones
		in     = map[string]bool{}
	)
	for _, id := range ids {
		rule := rules.Rule(id.Type)
		profile, root, err := g.owner(id)
		if err != nil {
			return decision{}, err
		}
		if profile == "" {
			if count(idents, rule, at) >= rule.Limit {
				d.drops = append(d.drops, Drop{id, fmt.Sprintf("limit: the profile already has %d %s (limit %d)", count(idents, rule, at), id.Type, rule.Limit)})
				continue
			}
			d.attach = append(d.attach, id)
			idents = append(idents, known{typ: id.Type, firstSeen: at.UnixMilli()})
			continue
		}
		if in[root] {
			d.links = append(d.links, Link{Identifier: id, Profile: profile, Root: root})
			continue
		}
		if other, err := blockedBy(g, root, d.roots); err != nil {
			return decision{}, err
		} else if other != "" {
			d.drops = append(d.drops, Drop{id, fmt.Sprintf("unmerged: profile %s was split from %s by an operator", root, other)})
			continue
		}
		grp, err := g.group(root)
		if err != nil {
			return decision{}, err
		}
		union := append(append([]known(nil), idents...), grp.idents...)
		if t, over := overLimit(union, idents, grp.idents, rules, at); over {
			rule := rules.Rule(t)
			d.drops = append(d.drops, Drop{id, fmt.Sprintf("limit: joining profile %s would give one person %d %s (limit %d)", root, count(union, rule, at), t, rule.Limit)})
			continue
		}
		idents = union
		in[root] = true
		d.roots = append(d.roots, root)
		d.links = append(d.links, Link{Identifier: id, Profile: profile, Root: root})
	}
	return d, nil
}

// known1 reports whether all ids belong to one canonical profile already, and
// if so the decision that says so.
func known1(ids []Identifier, g lookup) (decision, bool, error) {
	d := decision{links: make([]Link, 0, len(ids))}
	for _, id := range ids {
		p, root, err := g.owner(id)
		if err != nil || p == "" || len(d.roots) > 0 && root != d.roots[0] {
			return decision{}, false, err
		}
		if len(d.roots) == 0 {
			d.roots = []string{root}
		}
		d.links = append(d.links, Link{Identifier: id, Profile: p, Root: root})
	}
	return d, len(d.roots) == 1, nil
}

// blockedBy returns the profile among roots that an operator split from root.
func blockedBy(g lookup, root string, roots []string) (string, error) {
	for _, other := range roots {
		blocked, err := g.blocked(root, other)
		if err != nil || blocked {
			return other, err
		}
	}
	return "", nil
}

// overLimit reports the first identifier type for which joining a and b gives
// more identifiers than the limit allows, and more than either side already
// had (a profile that exceeds a limit tightened after the fact can still
// receive events).
func overLimit(union, a, b []known, rules *Rules, at time.Time) (string, bool) {
	seen := map[string]bool{}
	for _, k := range union {
		if seen[k.typ] {
			continue
		}
		seen[k.typ] = true
		rule := rules.Rule(k.typ)
		n := count(union, rule, at)
		if n > rule.Limit && n > count(a, rule, at) && n > count(b, rule, at) {
			return k.typ, true
		}
	}
	return "", false
}
