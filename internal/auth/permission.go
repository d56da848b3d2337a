package auth

import (
	"slices"
	"strings"

	"github.com/bottega-crm/bottega/internal/fault"
)

// Permission names what a caller may do. Roles and API key scopes are sets of
// permissions; every API route and every dashboard page names the one it
// needs.
type Permission string

// The permissions.
const (
	PipelineRead   Permission = "pipeline:read"   // counters, lag, quarantine, the live event debugger
	CustomersRead  Permission = "customers:read"  // profiles, timelines, orders (contact details masked without CustomersPII)
	CustomersPII   Permission = "customers:pii"   // contact details (e-mail, phone) unmasked, CSV export with them
	CustomersWrite Permission = "customers:write" // undo merges
	AnalyticsRead  Permission = "analytics:read"  // KPIs, NPS, cohorts, RFM, personas, predictions
	AnalyticsWrite Permission = "analytics:write" // costs, model fits
	SourcesRead    Permission = "sources:read"    // sources and their snippets
	SourcesWrite   Permission = "sources:write"   // create, rotate, disable write keys
	SettingsRead   Permission = "settings:read"   // identity rules, staff users, API keys of everyone
	SettingsWrite  Permission = "settings:write"  // change identity rules, manage staff users and their keys
)

// Permissions is every permission, in a stable order.
var Permissions = []Permission{
	PipelineRead, CustomersRead, CustomersPII, CustomersWrite, AnalyticsRead, AnalyticsWrite,
	SourcesRead, SourcesWrite, SettingsRead, SettingsWrite,
}

// ParsePermissions reads a comma-separated list of permissions.
func ParsePermissions(s string) ([]Permission, error) {
	var out []Permission
	for f := range strings.SplitSeq(s, ",") {
		p := Permission(strings.TrimSpace(f))
		if p == "" {
			continue
		}
		if !slices.Contains(Permissions, p) {
			return nil, fault.New(fault.Invalid, "unknown permission %q; known: %s", p, joinPerms(Permissions))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func joinPerms(ps []Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

// Role is a staff member's job, which decides what they may do.
type Role string

// The roles, from the most to the least powerful.
const (
	Owner    Role = "owner"    // everything, including managing other owners
	Admin    Role = "admin"    // everything but managing owners
	Marketer Role = "marketer" // customers with contact details, analytics, sources
	Analyst  Role = "analyst"  // analytics and customers with contact details masked
	Care     Role = "care"     // customer care agent: customers with contact details, undo merges
)

// Roles is every role, most powerful first.
var Roles = []Role{Owner, Admin, Marketer, Analyst, Care}

// rolePermissions is the permission table: what each role may do.
var rolePermissions = map[Role][]Permission{
	Owner:    Permissions,
	Admin:    Permissions,
	Marketer: {PipelineRead, CustomersRead, CustomersPII, AnalyticsRead, AnalyticsWrite, SourcesRead, SourcesWrite},
	Analyst:  {PipelineRead, CustomersRead, AnalyticsRead, AnalyticsWrite, SourcesRead},
	Care:     {CustomersRead, CustomersPII, CustomersWrite},
}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := rolePermissions[r]; !ok {
		names := make([]string, len(Roles))
		for i, x := range Roles {
			names[i] = string(x)
		}
		return "", fault.New(fault.Invalid, "unknown role %q; roles are %s", s, strings.Join(names, ", "))
	}
	return r, nil
}

// Permissions returns what the role may do.
func (r Role) Permissions() []Permission { return slices.Clone(rolePermissions[r]) }

// Can reports whether the role grants p.
func (r Role) Can(p Permission) bool { return slices.Contains(rolePermissions[r], p) }

// Principal is who is asking: a staff member signed in to the dashboard, a
// staff member's personal API key, or a service API key made on the command
// line. Its permissions are the role's, narrowed by the key's scopes.
type Principal struct {
	UserID string // "" for a service API key
	Email  string
	Name   string
	Role   Role   // "" for a service API key
	Locale string // "en" or "it"; "" when the user has not chosen
	KeyID  string // the API key used, "" for a dashboard session
	perms  []Permission
}

// NewPrincipal returns a principal holding the role's permissions, narrowed
// to scopes unless scopes is nil. A service key has no role: its scopes are
// its permissions.
func NewPrincipal(u User, keyID string, scopes []Permission) Principal {
	p := Principal{UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Locale: u.Locale, KeyID: keyID}
	switch {
	case u.ID == "":
		p.perms = slices.Clone(scopes)
	case scopes == nil:
		p.perms = u.Role.Permissions()
	default:
		for _, s := range scopes {
			if u.Role.Can(s) {
				p.perms = append(p.perms, s)
			}
		}
	}
	return p
}

// Can reports whether the principal may do what p names.
func (p Principal) Can(perm Permission) bool { return slices.Contains(p.perms, perm) }

// Permissions returns what the principal may do.
func (p Principal) Permissions() []Permission { return slices.Clone(p.perms) }

// MaskEmail hides an e-mail address but for its first letter and domain's
// top level: "m***@***.it".
func MaskEmail(s string) string {
	if s == "" {
		return ""
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return "***"
	}
	tld := ""
	if i := strings.LastIndexByte(domain, '.'); i >= 0 {
		tld = domain[i:]
	}
	first := ""
	for _, r := range local {
		first = string(r)
		break
	}
	return first + "***@***" + tld
}

// MaskPhone hides a phone number but for its last two digits: "•••• 42" is
// written "***42".
func MaskPhone(s string) string {
	if s == "" {
		return ""
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits <= 2 {
		return "***"
	}
	tail := make([]rune, 0, 2)
	for i := len(s) - 1; i >= 0 && len(tail) < 2; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			tail = append([]rune{rune(s[i])}, tail...)
		}
	}
	return "***" + string(tail)
}
