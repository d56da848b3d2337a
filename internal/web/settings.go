package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
)

// The settings page: staff users and their roles, every API key, the
// identity rules, and the permission table of the roles. Reading needs
// settings:read, changing settings:write; auth.Store has the last word on
// who may manage whom (only owners manage owners, nobody disables
// themselves, an enabled owner always remains) and the page asks it first
// only to say no in the staff member's language.

type settingsData struct {
	notes
	Users     []userRow
	Roles     []auth.Role // the roles the staff member may give
	Keys      []keyRow
	Rules     rulesForm
	Perms     []auth.Permission
	Matrix    []roleGrants
	CanWrite  bool
	Form      userForm
	NewUser   *newUser // a user just created with a generated password, shown once
	RulesDone bool
}

type userRow struct {
	ID, Email, Name string
	Role            auth.Role
	Disabled        bool
	LastLogin       time.Time // zero: never
	CreatedAt       time.Time
	Self            bool // the signed-in staff member
	Manageable      bool // the signed-in staff member may change them
}

type keyRow struct {
	ID, Name, Prefix, Owner string // Owner: e-mail, "" for a service key
	Scopes                  []auth.Permission
	CreatedAt, RevokedAt    time.Time
	Revoked                 bool
}

func keyRows(keys []auth.APIKey) []keyRow {
	rows := make([]keyRow, 0, len(keys))
	for _, k := range keys {
		row := keyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Owner: k.UserEmail, Scopes: k.Scopes, CreatedAt: k.CreatedAt, Revoked: k.RevokedAt != nil}
		if k.RevokedAt != nil {
			row.RevokedAt = *k.RevokedAt
		}
		rows = append(rows, row)
	}
	return rows
}

type roleGrants struct {
	Role   auth.Role
	Grants []bool // by Perms
}

type userForm struct {
	Email, Name, Role, PasswordMode string
}

type newUser struct {
	Email, Password string
}

// rulesForm shows identity.Rules as a form: one row per identifier type
// (and an empty one to add a type), the rule for other types, and the
// blocked values and patterns one per line.
type rulesForm struct {
	Types           []ruleRow
	Custom          ruleRow
	BlockedValues   string
	BlockedPatterns string
	PhoneRegion     string
}

type ruleRow struct {
	Type, Priority, Limit, Window string
}

var settingsMessages = map[string]string{
	"user_created":  "settings.done.user_created",
	"role_changed":  "settings.done.role_changed",
	"user_disabled": "settings.done.user_disabled",
	"user_enabled":  "settings.done.user_enabled",
	"key_revoked":   "settings.done.key_revoked",
	"rules_saved":   "settings.done.rules_saved",
}

func (s *server) settings(rq *request) error {
	d, err := s.settingsPage(rq)
	if err != nil {
		return err
	}
	q := rq.r.URL.Query()
	if k, ok := settingsMessages[q.Get("done")]; ok {
		d.Flash = rq.L.T(k, q.Get("name"))
	}
	s.render(rq, http.StatusOK, "settings.html", d)
	return nil
}

func (s *server) settingsPage(rq *request) (*settingsData, error) {
	users, err := s.Auth.ListUsers(rq.ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.Auth.ListAPIKeys(rq.ctx, "")
	if err != nil {
		return nil, err
	}
	rules, err := identity.LoadRules(rq.ctx, s.DB, s.PhoneRegion)
	if err != nil {
		return nil, err
	}
	d := &settingsData{CanWrite: rq.who.Can(auth.SettingsWrite), Perms: auth.Permissions, Rules: formOfRules(rules),
		Form: userForm{Role: string(auth.Analyst), PasswordMode: "generate"}}
	for _, r := range auth.Roles {
		if r != auth.Owner || rq.who.Role == auth.Owner {
			d.Roles = append(d.Roles, r)
		}
		g := roleGrants{Role: r}
		for _, p := range auth.Permissions {
			g.Grants = append(g.Grants, r.Can(p))
		}
		d.Matrix = append(d.Matrix, g)
	}
	for _, u := range users {
		row := userRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled(), CreatedAt: u.CreatedAt,
			Self: u.ID == rq.who.UserID}
		if u.LastLoginAt != nil {
			row.LastLogin = *u.LastLoginAt
		}
		row.Manageable = d.CanWrite && (u.Role != auth.Owner || rq.who.Role == auth.Owner)
		d.Users = append(d.Users, row)
	}
	d.Keys = keyRows(keys)
	return d, nil
}

func (s *server) settingsLoader(rq *request) func() (noted, error) {
	return func() (noted, error) { return s.settingsPage(rq) }
}

func (s *server) createUser(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	pf := rq.r.PostForm
	f := userForm{Email: strings.TrimSpace(pf.Get("email")), Name: strings.TrimSpace(pf.Get("name")), Role: pf.Get("role"), PasswordMode: pf.Get("password_mode")}
	refuse := func(err error) error {
		return s.refuse(rq, err, "settings.html", func() (noted, error) {
			d, err := s.settingsPage(rq)
			if d != nil {
				d.Form = f
			}
			return d, err
		})
	}
	if _, err := auth.NormalizeEmail(f.Email); err != nil {
		return refuse(rq.refusal(fault.Invalid, "settings.err.email", f.Email))
	}
	role, err := auth.ParseRole(f.Role)
	if err != nil {
		return refuse(rq.refusal(fault.Invalid, "settings.err.role"))
	}
	if role == auth.Owner && rq.who.Role != auth.Owner {
		return refuse(rq.refusal(fault.Forbidden, "settings.err.owner_only"))
	}
	generated := f.PasswordMode != "type"
	password := pf.Get("password")
	if generated {
		password = auth.GeneratePassword()
	} else if err := auth.CheckPassword(password); err != nil {
		return refuse(rq.refusal(fault.Invalid, "settings.err.password", auth.MinPasswordChars))
	}
	u, err := s.Auth.CreateUserAs(rq.ctx, rq.who, f.Email, f.Name, role, password)
	switch {
	case fault.Is(err, fault.Conflict):
		return refuse(rq.refusal(fault.Conflict, "settings.err.email_taken", f.Email))
	case err != nil:
		return refuse(err)
	}
	if !generated {
		return s.redirect(rq, "/settings?done=user_created&name="+url.QueryEscape(u.Email))
	}
	d, err := s.settingsPage(rq)
	if err != nil {
		return err
	}
	d.NewUser = &newUser{Email: u.Email, Password: password}
	s.show(rq, "settings.html", d)
	return nil
}

// target loads the staff member a settings action is about and checks,
// in the staff member's language, what auth.Store would refuse anyway.
func (s *server) target(rq *request, disabling bool) (auth.User, error) {
	u, err := s.Auth.UserByID(rq.ctx, rq.r.PathValue("id"))
	if err != nil {
		return u, err
	}
	if u.Role == auth.Owner && rq.who.Role != auth.Owner {
		return u, rq.refusal(fault.Forbidden, "settings.err.owner_only")
	}
	if disabling && u.ID == rq.who.UserID {
		return u, rq.refusal(fault.Forbidden, "settings.err.self")
	}
	return u, nil
}

// userRefusal localizes what auth.Store refuses about users: the only
// conflict of a role change or disabling is removing the last owner.
func userRefusal(rq *request, err error) error {
	if fault.Is(err, fault.Conflict) {
		return rq.refusal(fault.Conflict, "settings.err.last_owner")
	}
	return err
}

func (s *server) setUserRole(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	u, err := s.target(rq, false)
	if err != nil {
		return s.refuse(rq, err, "settings.html", s.settingsLoader(rq))
	}
	role, err := auth.ParseRole(rq.r.PostForm.Get("role"))
	if err != nil {
		return s.refuse(rq, rq.refusal(fault.Invalid, "settings.err.role"), "settings.html", s.settingsLoader(rq))
	}
	if role == auth.Owner && rq.who.Role != auth.Owner {
		return s.refuse(rq, rq.refusal(fault.Forbidden, "settings.err.owner_only"), "settings.html", s.settingsLoader(rq))
	}
	if err := s.Auth.SetUserRole(rq.ctx, rq.who, u.ID, role); err != nil {
		return s.refuse(rq, userRefusal(rq, err), "settings.html", s.settingsLoader(rq))
	}
	s.APIKeys.Forget() // their keys act with the new role's permissions
	return s.redirect(rq, "/settings?done=role_changed&name="+url.QueryEscape(u.Email))
}

func (s *server) disableUser(rq *request) error { return s.setUserDisabled(rq, true) }
func (s *server) enableUser(rq *request) error  { return s.setUserDisabled(rq, false) }

func (s *server) setUserDisabled(rq *request, disabled bool) error {
	u, err := s.target(rq, disabled)
	if err != nil {
		return s.refuse(rq, err, "settings.html", s.settingsLoader(rq))
	}
	if err := s.Auth.SetUserDisabled(rq.ctx, rq.who, u.ID, disabled); err != nil {
		return s.refuse(rq, userRefusal(rq, err), "settings.html", s.settingsLoader(rq))
	}
	s.APIKeys.Forget()
	done := "user_enabled"
	if disabled {
		done = "user_disabled"
	}
	return s.redirect(rq, "/settings?done="+done+"&name="+url.QueryEscape(u.Email))
}

func (s *server) revokeAnyKey(rq *request) error {
	if err := s.Auth.RevokeAPIKeyAs(rq.ctx, rq.who, rq.r.PathValue("id")); err != nil {
		if fault.Is(err, fault.NotFound) {
			err = rq.refusal(fault.NotFound, "settings.err.no_key")
		}
		return s.refuse(rq, err, "settings.html", s.settingsLoader(rq))
	}
	s.APIKeys.Forget()
	return s.redirect(rq, "/settings?done=key_revoked")
}

// saveRules reads the rules form and saves the rules as PUT
// /api/v1/identity/rules does: identity.SaveRules validates them
// (Rules.Compile) and stores them where the processor reads them for every
// batch, so they apply to the events processed from then on.
func (s *server) saveRules(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	f := readRulesForm(rq.r.PostForm)
	refuse := func(err error) error {
		return s.refuse(rq, err, "settings.html", func() (noted, error) {
			d, err := s.settingsPage(rq)
			if d != nil {
				d.Rules = f
			}
			return d, err
		})
	}
	r, err := rulesOfForm(f)
	if err == nil {
		err = identity.SaveRules(rq.ctx, s.DB, r, s.Now())
	}
	if err != nil {
		if refusable(err) {
			err = fault.New(fault.CodeOf(err), "%s", rq.L.T("settings.err.rules", fault.MessageOf(err)))
		}
		return refuse(err)
	}
	return s.redirect(rq, "/settings?done=rules_saved#rules")
}

func formOfRules(r identity.Rules) rulesForm {
	row := func(t identity.TypeRule) ruleRow {
		w := ""
		if t.Window > 0 {
			w = formatWindow(time.Duration(t.Window))
		}
		return ruleRow{Type: t.Type, Priority: strconv.Itoa(t.Priority), Limit: strconv.Itoa(t.Limit), Window: w}
	}
	f := rulesForm{Custom: row(r.Custom), BlockedValues: strings.Join(r.BlockedValues, "\n"),
		BlockedPatterns: strings.Join(r.BlockedPatterns, "\n"), PhoneRegion: r.PhoneRegion}
	for _, t := range r.Types {
		f.Types = append(f.Types, row(t))
	}
	f.Types = append(f.Types, ruleRow{}) // to add a type
	return f
}

// formatWindow writes a window as ParseDuration reads it, without the zero
// minutes and seconds of time.Duration.String ("168h", not "168h0m0s").
func formatWindow(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func readRulesForm(pf url.Values) rulesForm {
	types, prios, limits, windows := pf["type"], pf["priority"], pf["limit"], pf["window"]
	at := func(vs []string, i int) string {
		if i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	f := rulesForm{
		Custom: ruleRow{Priority: strings.TrimSpace(pf.Get("custom_priority")), Limit: strings.TrimSpace(pf.Get("custom_limit")),
			Window: strings.TrimSpace(pf.Get("custom_window"))},
		BlockedValues: pf.Get("blocked_values"), BlockedPatterns: pf.Get("blocked_patterns"),
		PhoneRegion: strings.TrimSpace(pf.Get("phone_region")),
	}
	for i := range types {
		f.Types = append(f.Types, ruleRow{Type: at(types, i), Priority: at(prios, i), Limit: at(limits, i), Window: at(windows, i)})
	}
	if len(f.Types) == 0 || f.Types[len(f.Types)-1].Type != "" {
		f.Types = append(f.Types, ruleRow{})
	}
	return f
}

// rulesOfForm reads the form into rules; rows without a type are skipped.
// Numbers and windows are checked here, the rest by Rules.Compile.
func rulesOfForm(f rulesForm) (identity.Rules, error) {
	conv := func(x ruleRow) (identity.TypeRule, error) {
		t := identity.TypeRule{Type: x.Type}
		var err error
		if t.Priority, err = strconv.Atoi(x.Priority); err != nil {
			return t, fault.New(fault.Invalid, "priority %q of %q is not a whole number", x.Priority, x.Type)
		}
		if t.Limit, err = strconv.Atoi(x.Limit); err != nil {
			return t, fault.New(fault.Invalid, "limit %q of %q is not a whole number", x.Limit, x.Type)
		}
		if x.Window != "" {
			w, err := time.ParseDuration(x.Window)
			if err != nil || w < 0 {
				return t, fault.New(fault.Invalid, "window %q is not a duration such as 168h", x.Window)
			}
			t.Window = identity.Duration(w)
		}
		return t, nil
	}
	r := identity.Rules{BlockedValues: lines(f.BlockedValues), BlockedPatterns: lines(f.BlockedPatterns), PhoneRegion: f.PhoneRegion}
	var err error
	if r.Custom, err = conv(f.Custom); err != nil {
		return r, err
	}
	for _, x := range f.Types {
		if x.Type == "" {
			continue
		}
		t, err := conv(x)
		if err != nil {
			return r, err
		}
		r.Types = append(r.Types, t)
	}
	return r, r.Compile()
}

// lines splits a textarea into its non-empty lines, trimmed, without
// repeats.
func lines(s string) []string {
	out := []string{}
	for l := range strings.Lines(s) {
		l = strings.TrimSpace(l)
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
