package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestSIGTERMDrain checks the drain promised by `bottega serve`: on SIGTERM
// it stops accepting connections, answers the requests in flight (their
// events committed), and exits with status 0. Requests whose body is still
// arriving when the signal comes are certainly in flight; a load of ordinary
// requests runs alongside. Nothing acknowledged may be lost, and after a
// restart every stored event is processed.
func TestSIGTERMDrain(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		const source = "drain"
		writeKey := createSource(t, dsn, source, "web")
		srv := startServer(t, dsn)

		spec := loadSpec{Prefix: "dr", Batches: 3000, PerBatch: 100, Users: 500, OrderEvery: 10}
		batches := spec.build()
		slowSpec := loadSpec{Prefix: "drs", Batches: 6, PerBatch: 100, Users: 50, OrderEvery: 5}
		slowBatches := slowSpec.build()

		// Background load, paced so the server is not saturated.
		l := newLoader(srv, writeKey)
		l.Pace = 5 * time.Millisecond
		var (
			mu    sync.Mutex
			wrong []string
		)
		l.OnReply = func(a attempt) {
			// Until the listener closes every answer must be a 200; after,
			// connections are refused (an error, not an answer).
			if a.Reply.Err == nil && a.Reply.Status != http.StatusOK {
				mu.Lock()
				wrong = append(wrong, a.Reply.String())
				mu.Unlock()
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		loadDone := make(chan struct{})
		go func() {
			defer close(loadDone)
			l.run(ctx, 4, batches)
		}()
		for l.nAcked.Load() < 50 {
			select {
			case <-loadDone:
				t.Fatalf("the load ended early: %s; %v", l.summary(), l.problems())
			case <-time.After(time.Millisecond):
			}
		}

		// Requests caught mid-body by the signal.
		slowClient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		type slow struct {
			pw    *io.PipeWriter
			rest  []byte
			reply chan Reply
		}
		var slows []slow
		for _, b := range slowBatches {
			pr, pw := io.Pipe()
			req, err := http.NewRequest(http.MethodPost, srv.URL()+"/v1/batch", pr)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = int64(len(b.Body))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(writeKey, "")
			s := slow{pw: pw, rest: b.Body[len(b.Body)/2:], reply: make(chan Reply, 1)}
			go func() {
				res, err := slowClient.Do(req)
				if err != nil {
					s.reply <- Reply{Err: err}
					return
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				s.reply <- Reply{Status: res.StatusCode, Header: res.Header, Body: body, Err: err}
			}()
			if _, err := pw.Write(b.Body[:len(b.Body)/2]); err != nil {
				t.Fatalf("writing the first half of a slow request: %v", err)
			}
			slows = append(slows, s)
		}
		time.Sleep(300 * time.Millisecond) // let the server read the headers

		pid := srv.PID()
		exited := make(chan error, 1)
		go func() { exited <- srv.Terminate() }()
		time.Sleep(300 * time.Millisecond) // the server is draining, waiting for the bodies
		for _, s := range slows {
			if _, err := s.pw.Write(s.rest); err != nil {
				t.Errorf("writing the rest of a slow request after SIGTERM: %v", err)
			}
			s.pw.Close()
		}
		for i, s := range slows {
			r := <-s.reply
			var res IngestResult
			if r.Err != nil || r.Status != http.StatusOK || json.Unmarshal(r.Body, &res) != nil || res.Stored != slowSpec.PerBatch {
				t.Errorf("slow request %d, in flight at SIGTERM: %s; want 200 with %d events stored", i, r, slowSpec.PerBatch)
			}
		}
		if err := <-exited; err != nil {
			t.Errorf("bottega (pid %d) exited with %v after SIGTERM; want status 0", pid, err)
		}
		cancel()
		<-loadDone
		mu.Lock()
		for _, w := range wrong {
			t.Errorf("an answer during the drain: %s; want 200 (or a refused connection once the listener is closed)", w)
		}
		mu.Unlock()
		if p := l.problems(); len(p) > 0 {
			t.Errorf("unexpected answers: %v", p)
		}
		t.Logf("load at SIGTERM: %s", l.summary())

		// Nothing acknowledged is lost; nothing is stored twice or in part.
		acked := l.ackedIDs(batches)
		db := openDB(t, dsn)
		stored := storedIDs(t, db, source)
		slowStored := map[string]int{}
		loadStored := map[string]int{}
		for id, n := range stored {
			if slowSpec.batchOfID(id) >= 0 {
				slowStored[id] = n
			} else {
				loadStored[id] = n
			}
		}
		n := checkLog(t, loadStored, spec, batches, acked, false)
		var slowIDs []string
		for _, b := range slowBatches {
			slowIDs = append(slowIDs, b.IDs...)
		}
		checkLog(t, slowStored, slowSpec, slowBatches, slowIDs, true)
		t.Logf("%d load events stored, %d acknowledged; %d slow events stored", n, len(acked), len(slowStored))

		// What was stored before the exit is processed after a restart.
		srv.Restart()
		st := srv.WaitProcessed(t)
		rows, distinct := countEvents(t, db, source)
		if st.Stored != rows || distinct != rows || st.Processed != rows || st.Failed != 0 {
			t.Errorf("stats %+v with %d rows (%d distinct) in the log; want all stored once and processed", st, rows, distinct)
		}
	})
}
