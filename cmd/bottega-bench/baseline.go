package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
)

// Baseline servers answer the ingestion endpoints doing less than bottega:
//
//	noop    reads the body and answers {"success":true}
//	decode  reads the body and decodes it with encoding/json into generic
//	        values (the "handler that only decodes the same JSON")
//	parse   reads the body and runs bottega's own parser
//	        (event.Parser.ParseBatch / ParseSingle), storing nothing
//
// They run in their own process, with the HTTP server settings bottega uses,
// so that they are served and loaded exactly like bottega.
func runBaselineServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("baseline-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "noop", "noop, decode or parse")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return exitCode(2)
	}
	var handle func(typ string, body []byte) (int, error)
	switch *kind {
	case "noop":
		handle = func(string, []byte) (int, error) { return 1, nil }
	case "decode":
		handle = func(_ string, body []byte) (int, error) {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				return 0, err
			}
			if m, ok := v.(map[string]any); ok {
				if b, ok := m["batch"].([]any); ok {
					return len(b), nil
				}
			}
			return 1, nil
		}
	case "parse":
		parsers := sync.Pool{New: func() any { return event.NewParser(event.DefaultLimits()) }}
		handle = func(typ string, body []byte) (int, error) {
			p := parsers.Get().(*event.Parser)
			defer parsers.Put(p)
			var (
				req *event.Request
				err error
			)
			if typ == "" {
				req, err = p.ParseBatch(body, time.Now().UTC())
			} else {
				req, err = p.ParseSingle(typ, body, time.Now().UTC())
			}
			if err != nil {
				return 0, err
			}
			return len(req.Events), nil
		}
	default:
		fmt.Fprintf(stderr, "--kind must be noop, decode or parse, not %q\n", *kind)
		return exitCode(2)
	}
	limit := event.DefaultLimits().MaxBatchBytes
	mux := http.NewServeMux()
	ingest := func(typ string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, err := readAll(r, limit)
			if err != nil {
				http.Error(w, `{"error":"cannot read the body"}`, http.StatusBadRequest)
				return
			}
			n, err := handle(typ, body)
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":%q}`, err.Error())
				return
			}
			if *kind == "noop" {
				io.WriteString(w, `{"success":true}`)
				return
			}
			b := append(make([]byte, 0, 80), `{"success":true,"stored":`...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, `,"duplicates":0,"quarantined":[]}`...)
			w.Write(b)
		}
	}
	mux.HandleFunc("POST /v1/batch", ingest(""))
	for _, typ := range []string{"identify", "track", "page", "screen", "group", "alias"} {
		mux.HandleFunc("POST /v1/"+typ, ingest(typ))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// The settings of bottega's own server (cmd/bottega/app.go).
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    512 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "baseline %s serving on http://%s\n", *kind, ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// readAll reads a request body of at most limit bytes into a buffer sized
// from Content-Length, as bottega does.
func readAll(r *http.Request, limit int) ([]byte, error) {
	size := 4096
	if r.ContentLength > 0 && r.ContentLength <= int64(limit) {
		size = int(r.ContentLength) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := buf.ReadFrom(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if n > int64(limit) {
		return nil, fmt.Errorf("the body is larger than %d bytes", limit)
	}
	return buf.Bytes(), nil
}
