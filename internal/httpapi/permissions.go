package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// routePermissions maps "METHOD /path" of every API route to the
// permission it needs.
func routePermissions() map[string]Permission {
	m := map[string]Permission{}
	for _, r := range routes {
		if r.Credential == APIKey {
			m[r.Method+" "+r.Path] = r.Permission
		}
	}
	return m
}

// scopesDescription documents the permissions in the security scheme.
func scopesDescription() string {
	var b strings.Builder
	b.WriteString("An API key: `Authorization: Bearer <key>`. A key may do what its scopes allow: " +
		"a service key (`bottega apikey create NAME --scopes a,b`) exactly its scopes, a staff member's key its scopes within the member's role. " +
		"Each operation names the permission it needs; without it the answer is 403 with code `forbidden`. " +
		"Without `customers:pii`, e-mail addresses and phone numbers are masked in every answer and lookups by e-mail or phone answer 403. Permissions:")
	for _, p := range auth.Permissions {
		b.WriteString(" `" + string(p) + "`")
	}
	b.WriteString(".")
	return b.String()
}

// authenticate checks the API key of every API operation and the
// permission the operation needs, puts the principal in the request's
// context (auth.PrincipalFrom) and, for a principal without CustomersPII,
// has the answer's contact details masked.
func (s *server) authenticate(ctx huma.Context, next func(huma.Context)) {
	_, w := humago.Unwrap(ctx)
	token, ok := strings.CutPrefix(ctx.Header("Authorization"), "Bearer ")
	var (
		p   auth.Principal
		err error
	)
	if !ok {
		err = fault.New(fault.Unauthorized, "an API key is required: Authorization: Bearer <key>")
	} else {
		p, err = s.APIKeys.Get(ctx.Context(), strings.TrimSpace(token))
	}
	if err == nil {
		op := ctx.Operation()
		need, listed := s.perms[op.Method+" "+op.Path]
		switch {
		case !listed || need == "":
			err = fault.New(fault.Internal, "%s %s is missing from the route table", op.Method, op.Path)
		case !p.Can(need):
			err = fault.New(fault.Forbidden, "%s %s needs the %s permission, which this API key does not have", op.Method, op.Path, need)
		}
	}
	if err != nil {
		writeProblem(w, problem(s.Logger, err))
		return
	}
	if mw, ok := w.(*maskingWriter); ok && !p.Can(auth.CustomersPII) {
		mw.mask = true
	}
	next(huma.WithContext(ctx, auth.WithPrincipal(ctx.Context(), p)))
}

// canSeePII reports whether the caller may see contact details.
func canSeePII(ctx context.Context) bool {
	p, ok := auth.PrincipalFrom(ctx)
	return ok && p.Can(auth.CustomersPII)
}

// maskingWriter passes an API answer through, or, once mask is set (before
// anything is written), holds it back and writes it with its contact
// details masked (auth.MaskJSON).
type maskingWriter struct {
	http.ResponseWriter
	mask   bool
	status int
	buf    bytes.Buffer
}

func (m *maskingWriter) WriteHeader(status int) {
	if !m.mask {
		m.ResponseWriter.WriteHeader(status)
		return
	}
	if m.status == 0 {
		m.status = status
	}
}

func (m *maskingWriter) Write(b []byte) (int, error) {
	if !m.mask {
		return m.ResponseWriter.Write(b)
	}
	if m.status == 0 {
		m.status = http.StatusOK
	}
	return m.buf.Write(b)
}

// finish writes a held-back answer, masked.
func (m *maskingWriter) finish() {
	if !m.mask || m.status == 0 {
		return
	}
	body := m.buf.Bytes()
	if len(body) > 0 && strings.Contains(m.Header().Get("Content-Type"), "json") {
		body = auth.MaskJSON(body)
	}
	m.Header().Del("Content-Length")
	m.ResponseWriter.WriteHeader(m.status)
	_, _ = m.ResponseWriter.Write(body)
}

// masking wraps the JSON API so that authenticate can have answers masked.
func masking(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r)
			return
		}
		mw := &maskingWriter{ResponseWriter: w}
		h.ServeHTTP(mw, r)
		mw.finish()
	})
}
