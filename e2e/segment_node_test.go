package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// nodeDir holds send.mjs and the pinned @segment/analytics-node.
const nodeDir = "testdata/segment-node"

// TestSegmentNode drives npm @segment/analytics-node (pinned in
// testdata/segment-node/package-lock.json) against the running binary: the
// same journey as TestSegmentGo, checked the same way.
func TestSegmentNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		sqldbtest.Missing(t, "Node.js (node on PATH)")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "@segment", "analytics-node")); err != nil {
		sqldbtest.Missing(t, "@segment/analytics-node (run npm ci in e2e/testdata/segment-node)")
	}
	eachEngine(t, func(t *testing.T, dsn string) {
		j := newJourney("node", "@segment/analytics-node")
		writeKey := createSource(t, dsn, j.Source, "web")
		srv := startServer(t, dsn)

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "send.mjs", srv.URL(), writeKey, j.Prefix)
		cmd.Dir = nodeDir
		cmd.Env = processEnv()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("node send.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
		var out struct {
			Library string `json:"library"`
			Events  []struct {
				MessageID string    `json:"messageId"`
				Type      string    `json:"type"`
				Timestamp time.Time `json:"timestamp"`
			} `json:"events"`
			Statuses []int    `json:"statuses"`
			Errors   []string `json:"errors"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &out); err != nil {
			t.Fatalf("send.mjs printed %q: %v", stdout.String(), err)
		}
		// Three phases of at most 3 events per batch: at least 4 requests,
		// every one answered 200.
		if len(out.Statuses) < 4 || len(out.Errors) > 0 {
			t.Fatalf("send.mjs: statuses %v, errors %v; want at least 4 answers, all 200", out.Statuses, out.Errors)
		}
		for _, s := range out.Statuses {
			if s != 200 {
				t.Fatalf("send.mjs: statuses %v; want all 200", out.Statuses)
			}
		}
		sent := map[string]sentCall{}
		for _, e := range out.Events {
			sent[e.MessageID] = sentCall{Type: e.Type, Timestamp: e.Timestamp}
		}
		for _, phase := range journeyPhases {
			for _, c := range phase {
				if got, ok := sent[j.id(c.call)]; !ok || got.Type != c.typ {
					t.Fatalf("send.mjs sent %+v; want %s as a %s call", out.Events, j.id(c.call), c.typ)
				}
			}
		}
		if len(sent) != 8 {
			t.Fatalf("send.mjs sent %d calls; want 8", len(sent))
		}

		// The anonymous profile that the alias must have merged: the
		// anonymous id's events were processed before the user's, so its
		// first profile is the one holding the anonymous page view.
		srv.WaitProcessed(t)
		db := openDB(t, srv.DSN)
		page, ok := readEvent(t, db, j.id("page-anon"))
		if !ok {
			t.FailNow()
		}
		var first string
		if err := db.QueryRow(context.Background(), "SELECT profile_id FROM timeline WHERE seq = ?", page.Seq).Scan(&first); err != nil {
			t.Fatalf("the anonymous page view is on no timeline: %v", err)
		}
		checkJourney(t, srv, j, sent, first)
	})
}
