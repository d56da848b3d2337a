package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// distFS holds the built front-end assets: internal/web/assets (sources)
// builds them with scripts/build-assets.sh into static/dist, which is
// committed so that `go build` needs no Node.
//
//go:embed static/dist
var distFS embed.FS

// assetPrefix is the URL path under which assets are served.
const assetPrefix = "/assets/"

// assets serves the built front-end files under content-hashed names and
// maps their logical names ("app.js") to URLs ("/assets/app-HASH.js").
// Because a name changes whenever its content does, responses are cacheable
// forever.
type assets struct {
	files  map[string]asset  // hashed name → file
	hashed map[string]string // logical name → hashed name
}

type asset struct {
	contentType string
	raw         []byte
	gz          []byte // nil when there is no precompressed variant
}

// loadAssets reads the embedded dist directory.
func loadAssets() (*assets, error) {
	dist, err := fs.Sub(distFS, "static/dist")
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	return newAssets(dist)
}

// newAssets reads manifest.json from dist, which maps logical names to
// hashed file names in dist, and every file it names (with its .gz variant
// when present).
func newAssets(dist fs.FS) (*assets, error) {
	b, err := fs.ReadFile(dist, "manifest.json")
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w (run scripts/build-assets.sh)", err)
	}
	var manifest map[string]string
	if err := json.Unmarshal(b, &manifest); err != nil {
		return nil, fmt.Errorf("web: assets: manifest.json: %w", err)
	}
	a := &assets{files: make(map[string]asset, len(manifest)), hashed: manifest}
	for name, hashed := range manifest {
		if !plainName(name) || !plainName(hashed) {
			return nil, fmt.Errorf("web: assets: manifest.json: bad entry %q → %q", name, hashed)
		}
		raw, err := fs.ReadFile(dist, hashed)
		if err != nil {
			return nil, fmt.Errorf("web: assets: %s: %w", name, err)
		}
		gz, err := fs.ReadFile(dist, hashed+".gz")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("web: assets: %s: %w", name, err)
		}
		a.files[hashed] = asset{contentType: contentType(hashed), raw: raw, gz: gz}
	}
	return a, nil
}

// plainName reports whether s is a file name without directories.
func plainName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\")
}

// URL returns the path under which the asset with the logical name (a key of
// manifest.json: "app.js", "charts.js", "app.css", "LICENSES.txt") is served.
// An unknown name is a programming error and panics; called from a template,
// the panic becomes the template's execution error.
func (a *assets) URL(name string) string {
	hashed, ok := a.hashed[name]
	if !ok {
		panic(fmt.Sprintf("web: no asset %q (see internal/web/static/dist/manifest.json)", name))
	}
	return assetPrefix + hashed
}

// ServeHTTP serves GET and HEAD /assets/<hashed name>, gzipped when the
// client accepts gzip, with a year-long immutable cache lifetime. Any other
// path is 404, any other method 405.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, assetPrefix)
	f, found := a.files[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	body, etag := f.raw, `"`+name+`"`
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			body, etag = f.gz, `"`+name+`.gz"`
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match, HEAD and Range requests.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the Accept-Encoding header values allow gzip:
// "gzip" (or "x-gzip", or "*" when gzip is not listed) with a q-value above 0.
func acceptsGzip(values []string) bool {
	gzip, star := -1.0, -1.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil {
						f = 0
					}
					q = f
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzip = max(gzip, q)
			case "*":
				star = max(star, q)
			}
		}
	}
	if gzip >= 0 {
		return gzip > 0
	}
	return star > 0
}

// contentType is the Content-Type of an asset, chosen by its extension from
// a fixed table rather than the system's MIME database, so that it does not
// depend on the machine.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".woff2":
		return "font/woff2"
	default:
		return "application/octet-stream"
	}
}
