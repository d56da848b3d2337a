package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
)

// The account page: every signed-in staff member's own name, e-mail and
// role, language, password and personal API keys. A personal key may do at
// most what its owner may do, and the form offers no more.

type accountData struct {
	notes
	User      auth.User
	LastLogin time.Time // zero: never
	Languages []string
	Scopes    []auth.Permission // what the staff member may give a key
	Keys      []keyRow
	KeyName   string
	NewKey    *newKey // a key just created, shown once
}

type newKey struct {
	Name, Secret string
}

var accountMessages = map[string]string{
	"password":    "settings.account.done.password",
	"key_revoked": "settings.account.done.key_revoked",
}

func (s *server) account(rq *request) error {
	d, err := s.accountPage(rq)
	if err != nil {
		return err
	}
	if k, ok := accountMessages[rq.r.URL.Query().Get("done")]; ok {
		d.Flash = rq.L.T(k)
	}
	s.render(rq, http.StatusOK, "account.html", d)
	return nil
}

func (s *server) accountPage(rq *request) (*accountData, error) {
	u, err := s.Auth.UserByID(rq.ctx, rq.who.UserID)
	if err != nil {
		return nil, err
	}
	keys, err := s.Auth.ListAPIKeys(rq.ctx, u.ID)
	if err != nil {
		return nil, err
	}
	d := &accountData{User: u, Languages: languages, Scopes: rq.who.Permissions()}
	if u.LastLoginAt != nil {
		d.LastLogin = *u.LastLoginAt
	}
	d.Keys = keyRows(keys)
	return d, nil
}

func (s *server) accountLoader(rq *request) func() (noted, error) {
	return func() (noted, error) { return s.accountPage(rq) }
}

// changePassword replaces the staff member's password after checking the
// current one; their other sessions end, this one stays.
func (s *server) changePassword(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	pf := rq.r.PostForm
	current, next := pf.Get("current"), pf.Get("new")
	var err error
	switch {
	case next != pf.Get("confirm"):
		err = rq.refusal(fault.Invalid, "settings.account.err.mismatch")
	case auth.CheckPassword(next) != nil:
		err = rq.refusal(fault.Invalid, "settings.account.err.password", auth.MinPasswordChars)
	default:
		err = s.Auth.ChangePassword(rq.ctx, rq.token, current, next)
		if fault.Is(err, fault.Invalid) { // the new one passed CheckPassword: the current one is wrong
			err = rq.refusal(fault.Invalid, "settings.account.err.current")
		}
	}
	if err != nil {
		return s.refuse(rq, err, "account.html", s.accountLoader(rq))
	}
	return s.redirect(rq, "/account?done=password")
}

// createOwnKey makes a personal API key with the scopes ticked, each one
// the staff member has.
func (s *server) createOwnKey(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	name := strings.TrimSpace(rq.r.PostForm.Get("name"))
	var scopes []auth.Permission
	for _, v := range rq.r.PostForm["scope"] {
		p := auth.Permission(v)
		if !slices.Contains(auth.Permissions, p) || !rq.who.Can(p) {
			return s.refuse(rq, rq.refusal(fault.Forbidden, "settings.account.err.scope", v), "account.html", s.accountLoader(rq))
		}
		scopes = append(scopes, p)
	}
	refuse := func(err error) error {
		return s.refuse(rq, err, "account.html", func() (noted, error) {
			d, err := s.accountPage(rq)
			if d != nil {
				d.KeyName = name
			}
			return d, err
		})
	}
	if len(scopes) == 0 {
		return refuse(rq.refusal(fault.Invalid, "settings.account.err.no_scope"))
	}
	k, secret, err := s.Auth.CreateAPIKeyAs(rq.ctx, rq.who, name, rq.who.UserID, scopes)
	if fault.Is(err, fault.Invalid) {
		err = rq.refusal(fault.Invalid, "settings.account.err.key_name")
	}
	if err != nil {
		return refuse(err)
	}
	d, err := s.accountPage(rq)
	if err != nil {
		return err
	}
	d.NewKey = &newKey{Name: k.Name, Secret: secret}
	s.show(rq, "account.html", d)
	return nil
}

// revokeOwnKey revokes one of the staff member's own keys (anyone's keys
// are revoked on the settings page).
func (s *server) revokeOwnKey(rq *request) error {
	id := rq.r.PathValue("id")
	keys, err := s.Auth.ListAPIKeys(rq.ctx, rq.who.UserID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(keys, func(k auth.APIKey) bool { return k.ID == id && k.RevokedAt == nil }) {
		return s.refuse(rq, rq.refusal(fault.NotFound, "settings.err.no_key"), "account.html", s.accountLoader(rq))
	}
	if err := s.Auth.RevokeAPIKeyAs(rq.ctx, rq.who, id); err != nil {
		return s.refuse(rq, err, "account.html", s.accountLoader(rq))
	}
	s.APIKeys.Forget()
	return s.redirect(rq, "/account?done=key_revoked")
}
