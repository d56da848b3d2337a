package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
)

// Problem is bottega's error body, the RFC 9457 problem shape that the API
// framework also uses, plus the fault code.
type Problem struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	// Quarantined lists, for an ingestion call, events kept aside with their reasons.
	Quarantined []QuarantinedEvent `json:"quarantined,omitempty"`

	retryAfter time.Duration
}

func (p *Problem) Error() string  { return p.Detail }
func (p *Problem) GetStatus() int { return p.Status }

// statusOf maps fault codes to HTTP statuses: the one place where domain
// errors become HTTP.
func statusOf(c fault.Code) int {
	if c == fault.TooLarge {
		return http.StatusBadRequest // Segment's answer for oversize bodies
	}
	return fault.HTTPStatus(c)
}

// problem turns any error into a Problem, logging internal causes.
func problem(log *slog.Logger, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	code := fault.CodeOf(err)
	status := statusOf(code)
	if status >= 500 {
		log.Error("request failed", "code", code, "err", err)
	}
	out := &Problem{Title: http.StatusText(status), Status: status, Detail: fault.MessageOf(err), Code: string(code)}
	if code == fault.Unavailable {
		out.retryAfter = 2 * time.Second
	}
	return out
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((p.retryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, p.Status, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
