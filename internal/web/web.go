package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Deps are what the dashboard needs.
type Deps struct {
	DB           *sqldb.DB
	Auth         *auth.Store
	Sources      *auth.SourceCache // forgotten when a key is rotated or a source disabled
	APIKeys      *auth.APIKeyCache // forgotten when a key is revoked or a user disabled
	Logins       *auth.LoginLimiter
	Logger       *slog.Logger
	BaseCurrency string
	PhoneRegion  string
	Version      string
	Now          func() time.Time
	Location     *time.Location // for dates on pages (default UTC, as the KPIs' days)
	// SecureCookies marks the session cookie Secure even on plain HTTP
	// requests (set it when a TLS proxy sits in front of bottega).
	SecureCookies bool
	// Extensions keep derived data that an unmerge must rebuild.
	Extensions  []process.Extension
	Predictions *predict.Service
	// IngestURL is the address sources send events to, for the snippets
	// (default: the address the page was asked on).
	IngestURL string
}

// server is the dashboard.
type server struct {
	Deps
	cat    catalog
	tmpl   *templates
	assets *assets
}

// New returns the dashboard's handler. It serves every path it is given;
// mount it under "/" beside the APIs.
func New(d Deps) (http.Handler, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Logins == nil {
		d.Logins = auth.NewLoginLimiter()
	}
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &server{Deps: d, cat: cat, tmpl: tmpl, assets: a}
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", a)
	for _, p := range s.pages() {
		mux.Handle(p.Method+" "+p.Path, s.handle(p))
	}
	mux.Handle("/", s.handle(page{Path: "/", Public: false, h: func(rq *request) error {
		return fault.New(fault.NotFound, "no such page: %s", rq.r.URL.Path)
	}}))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := s.newRequest(w, r, auth.Principal{})
		s.fail(rq, fault.New(fault.Forbidden, "cross-origin request refused"))
	}))
	return pageHeaders(cop.Handler(mux)), nil
}

// pageHeaders sets the headers every dashboard answer carries.
func pageHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
			"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

// page is one dashboard route.
type page struct {
	Method     string
	Path       string
	Public     bool            // reachable without a session (sign-in)
	Permission auth.Permission // needed besides a session ("" : any staff member)
	h          func(*request) error
}

// request is what a page handler works with.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	who   auth.Principal
	L     *Locale
	token string // the session token ("" when not signed in)
}

// htmx reports whether the request came from htmx (a partial update).
func (rq *request) htmx() bool { return rq.r.Header.Get("HX-Request") == "true" }

const sessionCookie = "bottega_session"

func (s *server) newRequest(w http.ResponseWriter, r *http.Request, who auth.Principal) *request {
	return &request{w: w, r: r, ctx: r.Context(), who: who,
		L: s.cat.locale(pickLanguage(r, who.Locale), s.BaseCurrency, s.Location)}
}

// handle authenticates the request, checks the page's permission and runs
// the page; errors become error pages (or, for htmx, an error fragment).
func (s *server) handle(p page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			who   auth.Principal
			token string
		)
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			var serr error
			who, _, serr = s.Auth.SessionPrincipal(r.Context(), c.Value)
			if serr == nil {
				token = c.Value
			} else if !fault.Is(serr, fault.Unauthorized) {
				s.fail(s.newRequest(w, r, who), serr)
				return
			} else {
				s.clearSession(w, r)
			}
		}
		rq := s.newRequest(w, r, who)
		rq.token = token
		if !p.Public && token == "" {
			s.toLogin(rq)
			return
		}
		if p.Permission != "" && !who.Can(p.Permission) {
			s.fail(rq, fault.New(fault.Forbidden, "your role (%s) may not open this page", who.Role))
			return
		}
		if err := p.h(rq); err != nil {
			s.fail(rq, err)
		}
	})
}

// toLogin sends a visitor without a session to the sign-in page, coming
// back here afterwards.
func (s *server) toLogin(rq *request) {
	target := "/login"
	if rq.r.Method == http.MethodGet && rq.r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(rq.r.URL.RequestURI())
	}
	if rq.htmx() {
		rq.w.Header().Set("HX-Redirect", target)
		rq.w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(rq.w, rq.r, target, http.StatusSeeOther)
}

// safeNext keeps a post-login destination on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// fail shows an error: a whole page, or a fragment for htmx requests.
func (s *server) fail(rq *request, err error) {
	code := fault.CodeOf(err)
	status := fault.HTTPStatus(code)
	if status >= 500 {
		s.Logger.Error("web: page failed", "path", rq.r.URL.Path, "err", err)
	}
	if code == fault.Unauthorized && rq.token == "" {
		s.toLogin(rq)
		return
	}
	data := errorData{Status: status, Code: string(code), Detail: fault.MessageOf(err)}
	if status >= 500 && code != fault.Unavailable {
		data.Detail = ""
	}
	if rq.htmx() {
		// htmx swaps only 2xx answers by default; the fragment goes to the
		// page's flash area.
		rq.w.Header().Set("HX-Retarget", "#flash")
		rq.w.Header().Set("HX-Reswap", "innerHTML")
		s.renderFragment(rq, http.StatusOK, "error.html", "flash-error", data)
		return
	}
	s.render(rq, status, "error.html", data)
}

type errorData struct {
	Status int
	Code   string
	Detail string
}

// redirect answers a successful form post: a 303 to target, or for htmx
// an HX-Location.
func (s *server) redirect(rq *request, target string) error {
	if rq.htmx() {
		rq.w.Header().Set("HX-Redirect", target)
		rq.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(rq.w, rq.r, target, http.StatusSeeOther)
	return nil
}

// parseForm reads a posted form of at most 64 KB.
func parseForm(rq *request) error {
	rq.r.Body = http.MaxBytesReader(rq.w, rq.r.Body, 64<<10)
	if err := rq.r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fault.New(fault.TooLarge, "the form is larger than 64 KB")
		}
		return fault.New(fault.Invalid, "the form could not be read: %v", err)
	}
	return nil
}
