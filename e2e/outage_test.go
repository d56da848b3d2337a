package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// TestStorageOutage is reliability test 5 (and issue item 10): storage
// becomes unavailable under load, then comes back. While it is down every
// ingestion request must be answered 503 with Retry-After — never 200, since
// nothing can be committed; afterwards the retries succeed, and the log holds
// exactly the acknowledged events, each once.
//
// On SQLite the test holds an exclusive lock on the database file from
// another connection while the server runs with a 200 ms busy timeout. On
// PostgreSQL the server reaches the database through a TCP proxy in the
// test, which drops every connection and refuses new ones.
func TestStorageOutage(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dsn := sqldbtest.DSN(t, sqldb.SQLite)
		const source = "outage"
		writeKey := createSource(t, dsn, source, "web")
		srv := startServer(t, dsn, "BOTTEGA_BUSY_TIMEOUT=200ms")

		lockDB, err := sql.Open("sqlite", dsn) // the driver bottega uses
		if err != nil {
			t.Fatal(err)
		}
		defer lockDB.Close()
		var conn *sql.Conn
		cut := func() {
			ctx := context.Background()
			if conn, err = lockDB.Conn(ctx); err != nil {
				t.Fatal(err)
			}
			// Take the lock between two of the server's commits: retry at
			// once rather than through SQLite's coarse busy handler.
			for try := 0; ; try++ {
				_, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
				if err == nil {
					break
				}
				if try == 10000 {
					t.Fatalf("BEGIN EXCLUSIVE: %v", err)
				}
				time.Sleep(time.Millisecond)
			}
		}
		restore := func() {
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Fatalf("ROLLBACK: %v", err)
			}
			conn.Close()
		}
		outageUnderLoad(t, srv, writeKey, source, dsn, cut, restore)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := sqldbtest.DSN(t, sqldb.Postgres)
		const source = "outage"
		writeKey := createSource(t, dsn, source, "web")
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		proxy := newTCPProxy(t, u.Host)
		u.Host = proxy.Addr()
		srv := startServer(t, u.String())
		outageUnderLoad(t, srv, writeKey, source, dsn, proxy.Cut, proxy.Restore)
	})
}

// outageUnderLoad runs a load, calls cut once part of it is acknowledged,
// keeps the outage for a few seconds while the clients retry, calls restore,
// and checks every answer and the log. directDSN reaches the database
// without going through any outage.
func outageUnderLoad(t *testing.T, srv *Server, writeKey, source, directDSN string, cut, restore func()) {
	spec := loadSpec{Prefix: "out", Batches: 200, PerBatch: 100, Users: 300, OrderEvery: 10}
	batches := spec.build()
	l := newLoader(srv, writeKey)
	l.Pace = 40 * time.Millisecond     // a steady stream, so the outage lands amid it,
	l.MaxWait = 100 * time.Millisecond // and many retries during it

	var (
		mu       sync.Mutex
		down, up time.Time // outage complete, restore begun
		during   int       // answers to requests made entirely within the outage
		wrong    []string
		spent    time.Duration
	)
	l.OnReply = func(a attempt) {
		mu.Lock()
		defer mu.Unlock()
		if down.IsZero() || a.Start.Before(down) || (!up.IsZero() && a.End.After(up)) {
			return
		}
		during++
		spent += a.End.Sub(a.Start)
		r := a.Reply
		var p Problem
		switch {
		case r.Err != nil:
			wrong = append(wrong, fmt.Sprintf("batch %d: %v; want a 503 answer", a.Batch, r.Err))
		case r.Status == http.StatusOK:
			wrong = append(wrong, fmt.Sprintf("batch %d: 200 %s while storage was down", a.Batch, r.Body))
		case r.Status != http.StatusServiceUnavailable:
			wrong = append(wrong, fmt.Sprintf("batch %d: %s; want 503", a.Batch, r))
		case json.Unmarshal(r.Body, &p) != nil || p.Code != "unavailable":
			wrong = append(wrong, fmt.Sprintf("batch %d: 503 with body %s; want code unavailable", a.Batch, r.Body))
		default:
			if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
				wrong = append(wrong, fmt.Sprintf("batch %d: 503 with Retry-After %q; want a number of seconds", a.Batch, r.Header.Get("Retry-After")))
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(ctx, 4, batches)
	}()
	for l.nAcked.Load() < int64(spec.Batches/5) {
		select {
		case <-done:
			t.Fatalf("the load ended before the outage: %s; problems %v", l.summary(), l.problems())
		case <-time.After(time.Millisecond):
		}
	}
	cut()
	mu.Lock()
	down = time.Now()
	ackedAtCut := l.nAcked.Load()
	mu.Unlock()
	t.Logf("storage down after %d acknowledged batches", ackedAtCut)
	time.Sleep(3 * time.Second) // clients keep retrying meanwhile
	mu.Lock()
	up = time.Now()
	ackedInOutage := l.nAcked.Load() - ackedAtCut
	mu.Unlock()
	restore()
	t.Logf("storage back after %v", up.Sub(down).Round(time.Millisecond))
	<-done

	if p := l.problems(); len(p) > 0 {
		t.Errorf("unexpected answers: %v", p)
	}
	mu.Lock()
	if during == 0 {
		t.Errorf("no request was made and answered during the outage; the test proved nothing")
	}
	for i, w := range wrong {
		if i == 20 {
			t.Errorf("… and %d more", len(wrong)-20)
			break
		}
		t.Error(w)
	}
	t.Logf("%d answers during the outage (in %v on average), %d wrong; %d batches acknowledged during it",
		during, (spent / time.Duration(max(1, during))).Round(time.Millisecond), len(wrong), ackedInOutage)
	mu.Unlock()
	if l.nAcked.Load() != int64(spec.Batches) {
		t.Fatalf("after the outage: %s", l.summary())
	}
	t.Logf("load: %s", l.summary())

	db := openDB(t, directDSN)
	rows, distinct := countEvents(t, db, source)
	if rows != int64(spec.events()) || distinct != rows {
		t.Errorf("COUNT(*) = %d, COUNT(DISTINCT message_id) = %d; want both %d, the acknowledged events", rows, distinct, spec.events())
	}
	checkLog(t, storedIDs(t, db, source), spec, batches, l.ackedIDs(batches), true)
	st := srv.WaitProcessed(t)
	if st.Stored != int64(spec.events()) || st.Processed != st.Stored || st.Quarantined != 0 || st.Failed != 0 {
		t.Errorf("stats %+v; want the %d acknowledged events stored and processed", st, spec.events())
	}
	if st.Duplicates != l.duplicate.Load() {
		t.Errorf("stats count %d duplicates; the answers reported %d", st.Duplicates, l.duplicate.Load())
	}
}

// tcpProxy forwards TCP connections to a target, and can cut them all.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

func newTCPProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
	})
	return p
}

// Addr is the address to connect to instead of the target.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close() // refused while down
			continue
		}
		go p.pipe(c)
	}
}

// track registers a connection, unless the proxy is down.
func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpProxy) forget(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

func (p *tcpProxy) pipe(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		p.forget(c)
		return
	}
	if !p.track(u) {
		u.Close()
		p.forget(c)
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
	p.forget(c, u)
}

// Cut closes every connection and refuses new ones until Restore.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore accepts connections again.
func (p *tcpProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}
