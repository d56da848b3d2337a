package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

const importFixtures = "../../internal/csvimport/testdata/"

// importRun calls run as the command line would, with stdin and an empty
// environment.
func importRun(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func exitStatus(err error) int {
	var e exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return int(e)
	}
	return 1
}

// The import command end to end, on both engines: the source must exist;
// a file with bad rows imports its good rows, lists the bad ones, writes
// them to --rejects and exits 3; importing it again stores nothing new; the
// processed result has the hand-computed statistics.
func TestImportCommand(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			dsn := sqldbtest.DSN(t, d)
			orders := importFixtures + "orders_it.csv"

			_, _, err := importRun(t, "", "import", "orders", orders, "--source", "shop", "--db", dsn)
			if fault.CodeOf(err) != fault.NotFound || !strings.Contains(fault.MessageOf(err), "bottega source create shop --channel import") {
				t.Fatalf("import into a missing source: %v", err)
			}
			if _, _, err := importRun(t, "", "source", "create", "shop", "--channel", "web", "--db", dsn); err != nil {
				t.Fatal(err)
			}

			rejects := filepath.Join(t.TempDir(), "rejects.csv")
			out, stderr, err := importRun(t, "", "import", "orders", orders, "--source", "shop", "--db", dsn, "--rejects", rejects)
			if exitStatus(err) != importRejectedExit {
				t.Fatalf("exit status %d (%v); want %d\n%s", exitStatus(err), err, importRejectedExit, out)
			}
			if stderr != "" {
				t.Errorf("no progress is drawn when stderr is not a terminal; got %q", stderr)
			}
			for _, want := range []string{
				`Imported orders from ` + orders + ` into source "shop" (semicolon-separated, utf-8 with BOM).`,
				`"Numero ordine" → order_id, "Data" → order_date`,
				`Kept as order or line item properties: "Note".`,
				"  Rows read:        14\n", "  Orders:           12\n", "  Events imported:  9\n", "  Already imported: 0\n", "  Rows rejected:    7\n",
				`  line 8: order_date: date "32/05/2024" is not a date`,
				`  line 10: order "A1001" already appeared at line 2`,
				`  lines 13-14: the order is rejected because of line 14: total "11,00" differs from "10,00" on line 13`,
				"All rejected rows are in " + rejects,
				"The running server processes the new events",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			b, err := os.ReadFile(rejects)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) != 8 || !strings.HasPrefix(lines[0], "\ufeffNumero ordine;") || !strings.HasSuffix(lines[0], ";reject_reason") || !strings.HasPrefix(lines[1], "A1006;32/05/2024;") {
				t.Errorf("rejects file:\n%s", b)
			}

			out, _, err = importRun(t, "", "import", "orders", orders, "--source", "shop", "--db", dsn)
			if exitStatus(err) != importRejectedExit || !strings.Contains(out, "  Events imported:  0\n") || !strings.Contains(out, "  Already imported: 9 (stored by an earlier import; nothing changed)\n") {
				t.Errorf("second import (%v):\n%s", err, out)
			}

			// The same customers fixture through standard input, in a dry run
			// first: it stores nothing.
			customers, err := os.ReadFile(importFixtures + "customers.csv")
			if err != nil {
				t.Fatal(err)
			}
			out, _, err = importRun(t, string(customers), "import", "customers", "-", "--source", "shop", "--db", dsn, "--dry-run")
			if exitStatus(err) != importRejectedExit || !strings.Contains(out, "Checked (dry run: nothing was stored) customers from standard input") || !strings.Contains(out, "  Events to import: 4\n") {
				t.Errorf("dry run (%v):\n%s", err, out)
			}
			out, _, err = importRun(t, string(customers), "import", "customers", "-", "--source", "shop", "--db", dsn)
			if exitStatus(err) != importRejectedExit || !strings.Contains(out, "  Events imported:  4\n") || !strings.Contains(out, "Kept as traits: \"Note\", \"Codice fiscale\".") {
				t.Errorf("customers (%v):\n%s", err, out)
			}

			// A file without bad rows exits 0 and leaves no rejects file.
			clean := filepath.Join(t.TempDir(), "clean.csv")
			if err := os.WriteFile(clean, []byte("order_id,date,email,total\nW1,2024-06-01,dana@example.com,\"19,90\"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err = importRun(t, "", "import", "orders", clean, "--source", "shop", "--db", dsn, "--rejects", rejects, "--channel", "pos")
			if err != nil || !strings.Contains(out, "  Events imported:  1\n") {
				t.Errorf("clean import (%v):\n%s", err, out)
			}
			if _, err := os.Stat(rejects); !os.IsNotExist(err) {
				t.Errorf("the rejects file of a clean import should not exist: %v", err)
			}

			// Shopify's export needs its order number named with --map.
			out, _, err = importRun(t, "", "import", "orders", importFixtures+"shopify_orders.csv", "--source", "shop", "--db", dsn,
				"--map", "order_id=Name", "--timezone", "Europe/Rome")
			if err != nil || !strings.Contains(out, "  Orders:           3\n") || !strings.Contains(out, `"Name" → order_id`) {
				t.Errorf("shopify import (%v):\n%s", err, out)
			}

			for _, tc := range []struct {
				args []string
				msg  string
			}{
				{[]string{"--max-file-size", "100"}, "is 1.6 kB; the limit is 100 bytes (--max-file-size)"},
				{[]string{"--max-file-size", "lots"}, "--max-file-size"},
				{[]string{"--timezone", "Mars/Olympus"}, `--timezone "Mars/Olympus" is not a time zone`},
				{[]string{"--channel", "fax"}, `channel "fax" is not web, app or pos`},
				{[]string{"--map", "order_id=Nope"}, `the file has no column "Nope"`},
			} {
				_, _, err := importRun(t, "", append([]string{"import", "orders", orders, "--source", "shop", "--db", dsn}, tc.args...)...)
				if err == nil || !strings.Contains(fault.MessageOrText(err), tc.msg) {
					t.Errorf("%v: error %v; want %q", tc.args, err, tc.msg)
				}
			}

			// Processing the log gives the statistics computed by hand for
			// the fixture (see internal/csvimport's store test).
			db, err := sqldb.Open(context.Background(), dsn, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var events int
			if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM events").Scan(&events); err != nil || events != 9+4+1+5 {
				t.Errorf("%d events stored (%v); want 19", events, err)
			}
			p := process.New(db, process.Options{})
			for {
				n, err := p.Step(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			// Anna (C1) and Bob (C2) also placed Shopify orders under their
			// e-mails: #1001 (64.90) and #1002 (100.00, 20.00 refunded).
			// Carla's only Shopify order was voided.
			rules := identity.DefaultRules("IT")
			for _, tc := range []struct {
				typ, value        string
				orders            int64
				revenue, refunded int64
			}{
				{"user_id", "C1", 3, 5980 + 3000 + 6490 - 3000, 3000},
				{"email", "anna@example.com", 3, 12470, 3000},
				{"user_id", "C2", 3, 12000 + 123450 + 10000 - 22000, 22000},
				{"email", "carla@example.com", 0, 0, 0},
				{"email", "dana@example.com", 1, 1990, 0},
			} {
				root, err := identity.Lookup(context.Background(), db, &rules, tc.typ, tc.value)
				if err != nil {
					t.Fatal(err)
				}
				s, err := order.GetStats(context.Background(), db, root, "EUR")
				if err != nil || s.Orders != tc.orders || s.Revenue.Minor != tc.revenue || s.Refunded.Minor != tc.refunded {
					t.Errorf("%s %s: %+v, %v", tc.typ, tc.value, s, err)
				}
			}
		})
	}
}
