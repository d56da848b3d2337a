package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"golang.org/x/time/rate"
)

// QuarantinedEvent is how a response reports an event kept aside.
type QuarantinedEvent struct {
	Index     int    `json:"index"`
	MessageID string `json:"messageId,omitempty"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail"`
}

// IngestResult is the body of a successful ingestion call.
type IngestResult struct {
	Success     bool               `json:"success"`
	Stored      int                `json:"stored"`
	Duplicates  int                `json:"duplicates"`
	Quarantined []QuarantinedEvent `json:"quarantined"`
}

// ingest serves the Segment Tracking API.
type ingest struct {
	ingester *event.Ingester
	sources  *auth.SourceCache
	limiters limiters
	log      *slog.Logger
	metrics  *Metrics
	timeout  time.Duration
}

// ServeHTTP handles POST /v1/{type}; typ is "" for /v1/batch.
func (h *ingest) handler(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status := h.serve(w, r, typ)
		h.metrics.ingestRequest(typ, status)
	}
}

func (h *ingest) serve(w http.ResponseWriter, r *http.Request, typ string) int {
	fail := func(err error) int {
		p := problem(h.log, err)
		writeProblem(w, p)
		return p.Status
	}
	// Credentials first when they come in the header: a forged key costs us
	// no body parsing.
	key, _, hasBasic := r.BasicAuth()
	var src auth.Source
	if hasBasic {
		s, err := h.sources.Get(r.Context(), key)
		if err != nil {
			return fail(err)
		}
		src = s
	}
	limit := h.ingester.Limits().MaxBatchBytes
	if typ != "" {
		limit = h.ingester.Limits().MaxEventBytes
	}
	body, err := readBody(r, limit)
	if err != nil {
		return fail(err)
	}
	req, receivedAt, err := h.ingester.Parse(typ, body)
	if err != nil {
		return fail(err)
	}
	if !hasBasic {
		s, err := h.sources.Get(r.Context(), req.WriteKey)
		if err != nil {
			return fail(err)
		}
		src = s
	}
	n := len(req.Events) + len(req.Quarantined)
	if wait, ok := h.limiters.allow(src, n, receivedAt); !ok {
		p := problem(h.log, fault.New(fault.RateLimited, "source %q is limited to %d events per second; retry later", src.Name, src.RateLimit))
		p.retryAfter = wait
		writeProblem(w, p)
		return p.Status
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	out, err := h.ingester.Store(ctx, src.ID, receivedAt, req)
	if err != nil {
		return fail(err)
	}
	h.metrics.ingestEvents(out, len(req.Quarantined))
	q := make([]QuarantinedEvent, 0, len(req.Quarantined))
	for _, e := range req.Quarantined {
		q = append(q, QuarantinedEvent{Index: e.Index, MessageID: e.MessageID, Reason: string(e.Reason), Detail: e.Detail})
	}
	if typ != "" && len(q) > 0 {
		// A single call whose event was refused: the client must hear it.
		// The event is kept in quarantine for the debugger.
		p := &Problem{Title: http.StatusText(http.StatusBadRequest), Status: http.StatusBadRequest,
			Detail: "the event was quarantined: " + q[0].Detail, Code: string(fault.Invalid), Quarantined: q}
		writeProblem(w, p)
		return p.Status
	}
	writeJSON(w, http.StatusOK, IngestResult{Success: true, Stored: out.Stored, Duplicates: out.Duplicates, Quarantined: q})
	return http.StatusOK
}

// readBody reads a request body of at most limit bytes after
// decompression, accepting JSON sent as application/json or text/plain (as
// navigator.sendBeacon does) and gzip encoding.
func readBody(r *http.Request, limit int) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/plain") {
			return nil, fault.New(fault.Unsupported, "Content-Type %q is not supported; send application/json", ct)
		}
	}
	var src io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if r.ContentLength > int64(limit) {
			return nil, fault.New(fault.TooLarge, "the body is larger than %d bytes", limit)
		}
	case "gzip":
		zr, err := gzip.NewReader(io.LimitReader(r.Body, int64(limit)+1))
		if err != nil {
			return nil, fault.New(fault.Invalid, "the body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fault.New(fault.Unsupported, "Content-Encoding %q is not supported; use gzip or none", enc)
	}
	size := 4096
	if r.ContentLength > 0 && r.ContentLength <= int64(limit) && r.Header.Get("Content-Encoding") == "" {
		size = int(r.ContentLength) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := buf.ReadFrom(io.LimitReader(src, int64(limit)+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fault.New(fault.TooLarge, "the body is larger than %d bytes", limit)
		}
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fault.New(fault.Invalid, "the body is not valid gzip or was cut short: %v", err)
		}
		return nil, fault.Wrap(err, fault.Invalid, "reading the body failed: %v", err)
	}
	if n > int64(limit) {
		return nil, fault.New(fault.TooLarge, "the body is larger than %d bytes", limit)
	}
	return buf.Bytes(), nil
}

// maxBurst is the smallest burst a rate-limited source gets: the most events
// one batch can hold.
const maxBurst = 5000

// limiters hold one token bucket per rate-limited source.
type limiters struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// allow takes n tokens from the source's bucket; when it cannot, it says how
// long to wait before retrying.
func (l *limiters) allow(src auth.Source, n int, now time.Time) (time.Duration, bool) {
	if src.RateLimit <= 0 {
		return 0, true
	}
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*rate.Limiter{}
	}
	lim, ok := l.m[src.ID]
	if !ok || lim.Limit() != rate.Limit(src.RateLimit) {
		// Two seconds' worth of events may come at once, and never less than
		// one full batch, so any well-formed batch can eventually pass.
		lim = rate.NewLimiter(rate.Limit(src.RateLimit), max(2*src.RateLimit, maxBurst))
		l.m[src.ID] = lim
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, n)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}
