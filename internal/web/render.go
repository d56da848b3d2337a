package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/bottega-crm/bottega/internal/auth"
)

//go:embed templates/*.html templates/partials/*.html
var templateFiles embed.FS

// templates holds one template set per page file: the layout and the
// partials, plus the page's own "title", "content" and fragments.
type templates struct {
	pages map[string]*template.Template // by file name, e.g. "customers.html"
}

// funcs are the few helpers templates need beyond the view's methods. None
// of them marks text as safe HTML.
var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict needs key/value pairs")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

func parseTemplates() (*templates, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, f := range files {
		name := path.Base(f)
		if name == "layout.html" {
			continue
		}
		set, err := template.Must(base.Clone()).ParseFS(templateFiles, f)
		if err != nil {
			return nil, err
		}
		t.pages[name] = set
	}
	return t, nil
}

// view is what every template gets: the page's data under .Data and what
// the layout needs.
type view struct {
	L      *Locale
	Who    auth.Principal
	Path   string // the page's path, for the navigation's aria-current
	Query  string // the request's query string
	Data   any
	assets *assets
	signed bool
}

// Asset returns the address of a bundled asset ("app.js", "charts.js", "app.css").
func (v view) Asset(name string) string { return v.assets.URL(name) }

// Signed reports whether a staff member is signed in.
func (v view) Signed() bool { return v.signed }

// Can reports whether the signed-in staff member has a permission, named
// as in auth ("customers:pii").
func (v view) Can(p string) bool { return v.Who.Can(auth.Permission(p)) }

// Nav is the navigation: the sections the staff member may open.
func (v view) Nav() []navItem {
	var out []navItem
	for _, n := range navigation {
		if n.perm == "" || v.Who.Can(n.perm) {
			n.Current = v.Path == n.Path || n.Path != "/" && strings.HasPrefix(v.Path, n.Path+"/")
			out = append(out, n)
		}
	}
	return out
}

type navItem struct {
	Path    string
	Label   string // message key
	Current bool
	perm    auth.Permission
}

var navigation = []navItem{
	{Path: "/", Label: "nav.overview", perm: auth.AnalyticsRead},
	{Path: "/customers", Label: "nav.customers", perm: auth.CustomersRead},
	{Path: "/sources", Label: "nav.sources", perm: auth.SourcesRead},
	{Path: "/settings", Label: "nav.settings", perm: auth.SettingsRead},
}

func (s *server) view(rq *request, data any) view {
	return view{L: rq.L, Who: rq.who, Path: rq.r.URL.Path, Query: rq.r.URL.RawQuery, Data: data, assets: s.assets, signed: rq.token != ""}
}

// render writes a whole page: file's "content" inside the layout.
func (s *server) render(rq *request, status int, file string, data any) {
	s.execute(rq, status, file, "layout", data)
}

// renderFragment writes one named template of a page file, for htmx.
func (s *server) renderFragment(rq *request, status int, file, name string, data any) {
	s.execute(rq, status, file, name, data)
}

func (s *server) execute(rq *request, status int, file, name string, data any) {
	set, ok := s.tmpl.pages[file]
	if !ok {
		s.Logger.Error("web: no template file", "file", file)
		http.Error(rq.w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, s.view(rq, data)); err != nil {
		s.Logger.Error("web: template failed", "file", file, "template", name, "err", err)
		http.Error(rq.w, "internal error", http.StatusInternalServerError)
		return
	}
	rq.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	rq.w.Header().Set("Content-Language", rq.L.Lang)
	rq.w.Header().Set("Vary", "Cookie, Accept-Language, HX-Request")
	rq.w.WriteHeader(status)
	_, _ = buf.WriteTo(rq.w)
}

// Chart is one chart on a page: an ECharts option that travels as JSON in a
// non-executable script element (templates/partials/chart.html), drawn by
// charts.js. Label describes it for screen readers.
type Chart struct {
	ID     string
	Label  string
	Option map[string]any
}
