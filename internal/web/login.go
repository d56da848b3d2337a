package web

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
)

type loginData struct {
	Next  string
	Email string
	Error string
}

func (s *server) loginPage(rq *request) error {
	if rq.token != "" {
		return s.redirect(rq, safeNext(rq.r.URL.Query().Get("next")))
	}
	s.render(rq, http.StatusOK, "login.html", loginData{Next: safeNext(rq.r.URL.Query().Get("next"))})
	return nil
}

func (s *server) login(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	email := strings.TrimSpace(rq.r.PostForm.Get("email"))
	data := loginData{Next: safeNext(rq.r.PostForm.Get("next")), Email: email}
	ip := clientIP(rq.r)
	if err := s.Logins.Allow(ip, email); err != nil {
		if wait := auth.RetryAfter(err); wait > 0 {
			rq.w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
		}
		data.Error = rq.L.T("login.too_many")
		s.render(rq, http.StatusTooManyRequests, "login.html", data)
		return nil
	}
	if rq.token != "" { // a new session replaces the old one
		_ = s.Auth.Logout(rq.ctx, rq.token)
	}
	u, token, err := s.Auth.Login(rq.ctx, email, rq.r.PostForm.Get("password"), auth.LoginMeta{IP: ip, UserAgent: rq.r.UserAgent()})
	if fault.Is(err, fault.Unauthorized) {
		s.Logins.Failed(ip, email)
		data.Error = rq.L.T("login.failed")
		s.render(rq, http.StatusUnauthorized, "login.html", data)
		return nil
	}
	if err != nil {
		return err
	}
	s.Logins.Succeeded(email)
	s.setSession(rq, token)
	// A language picked before signing in becomes the user's choice.
	if u.Locale == "" {
		if c, err := rq.r.Cookie(langCookie); err == nil && slices.Contains(languages, c.Value) {
			_ = s.Auth.SetLocale(rq.ctx, u.ID, c.Value)
		}
	}
	http.Redirect(rq.w, rq.r, data.Next, http.StatusSeeOther)
	return nil
}

func (s *server) logout(rq *request) error {
	if rq.token != "" {
		if err := s.Auth.Logout(rq.ctx, rq.token); err != nil {
			return err
		}
	}
	s.clearSession(rq.w, rq.r)
	http.Redirect(rq.w, rq.r, "/login", http.StatusSeeOther)
	return nil
}

// setLocale remembers the language: on the user when signed in, and in a
// cookie for the sign-in page.
func (s *server) setLocale(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	lang := rq.r.PostForm.Get("lang")
	if !slices.Contains(languages, lang) {
		return fault.New(fault.Invalid, "language %q is not one of %v", lang, languages)
	}
	if rq.token != "" {
		if err := s.Auth.SetLocale(rq.ctx, rq.who.UserID, lang); err != nil {
			return err
		}
	}
	http.SetCookie(rq.w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(rq.r)})
	back := safeNext(rq.r.PostForm.Get("back"))
	http.Redirect(rq.w, rq.r, back, http.StatusSeeOther)
	return nil
}

func (s *server) secure(r *http.Request) bool { return s.SecureCookies || r.TLS != nil }

func (s *server) setSession(rq *request, token string) {
	http.SetCookie(rq.w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(rq.r)})
}

func (s *server) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
}

// clientIP is the peer's address. bottega does not trust X-Forwarded-For:
// a proxy in front of it makes every client one address for the login
// limiter, which errs on the safe side.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// home is the first page after signing in: the overview for those who may
// see analytics, the customers for the others.
func (s *server) home(rq *request) error {
	if rq.who.Can(auth.AnalyticsRead) {
		return s.overview(rq)
	}
	return s.redirect(rq, "/customers")
}
