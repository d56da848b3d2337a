package web

import (
	"net/http"

	"github.com/bottega-crm/bottega/internal/fault"
)

// How the sources, settings and account pages answer their forms:
//
//   - success: a redirect back to the page with ?done=… (a note on top),
//     or, when the answer shows a secret once (a write key, an API key, a
//     generated password), the page itself with status 200, so that the
//     secret travels only in that answer's body;
//   - refusal (bad input, not allowed, conflicting state): for htmx the
//     shell's error flash; otherwise the page again, with what was typed
//     and the reason on top, under the error's status.
//
// The forms post with htmx into #main (hx-target="#main"), so a page
// answered to htmx is the inside of <main>: the "main" template of the
// page file.

// notes are the messages on top of a page.
type notes struct {
	Flash     string // success
	Error     string // refusal, localized where bottega knows the case
	ErrorCode string // fault code, for the refusal's title
}

func (n *notes) note() *notes { return n }

// noted is page data carrying notes.
type noted interface{ note() *notes }

// refusal is a refused action whose message is localized.
func (rq *request) refusal(code fault.Code, key string, args ...any) error {
	return fault.New(code, "%s", rq.L.T(key, args...))
}

// refusable reports whether err is the caller's to fix rather than a
// failure of bottega.
func refusable(err error) bool {
	switch fault.CodeOf(err) {
	case fault.Invalid, fault.Forbidden, fault.Conflict, fault.NotFound, fault.TooLarge:
		return true
	}
	return false
}

// refuse answers a refused action: see above. load returns the page data
// (with what was typed, if the page keeps it).
func (s *server) refuse(rq *request, err error, file string, load func() (noted, error)) error {
	if rq.htmx() || !refusable(err) {
		return err
	}
	data, lerr := load()
	if lerr != nil {
		return lerr
	}
	n := data.note()
	n.Error, n.ErrorCode = fault.MessageOf(err), string(fault.CodeOf(err))
	s.render(rq, fault.HTTPStatus(fault.CodeOf(err)), file, data)
	return nil
}

// show answers an action with its page (status 200): the whole page, or
// for htmx the inside of <main>.
func (s *server) show(rq *request, file string, data any) {
	if rq.htmx() {
		s.renderFragment(rq, http.StatusOK, file, "main", data)
		return
	}
	s.render(rq, http.StatusOK, file, data)
}
