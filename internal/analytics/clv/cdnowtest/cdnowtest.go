// Package cdnowtest reads the CDNOW reference data (internal/analytics/clv/
// testdata, see its README for origin and attribution) for the tests of the
// packages that check themselves against Fader, Hardie & Lee.
//
// Guarantees: every value is read as the files write it; a file that cannot
// be read or parsed fails the test.
package cdnowtest

import (
	"bufio"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The two summary files of the 2,357-customer sample (time unit: weeks).
const (
	SummaryFile       = "cdnow_customers_summary.csv"                   // ID, x, t_x, T
	SummaryValuesFile = "cdnow_customers_summary_with_transactions.csv" // ID, x, t_x, T, zbar
)

// Summary is a customer's row of a summary file.
type Summary struct {
	ID          int
	X           int     // repeat purchases in the calibration period
	Tx, T, Zbar float64 // recency and age in weeks; mean repeat value (0 without values or repeats)
}

// Transaction is a line of CDNOW_sample.txt.
type Transaction struct {
	ID     int    // sample id, 1..2357
	Date   string // YYYY-MM-DD
	Day    int64  // days since 1970-01-01
	Value  float64
	Amount string // the value as written, e.g. "29.33"
}

// path returns the path of a data file, wherever the calling test runs.
func path(t testing.TB, name string) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cdnowtest: cannot locate the data")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata", name)
}

// Summaries reads a summary file (SummaryFile or SummaryValuesFile).
func Summaries(t testing.TB, name string) []Summary {
	t.Helper()
	f, err := os.Open(path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Summary, 0, len(recs))
	for _, r := range recs[1:] {
		for i := range r {
			r[i] = strings.TrimSpace(r[i])
		}
		var s Summary
		var errs [5]error
		s.ID, errs[0] = strconv.Atoi(r[0])
		s.X, errs[1] = strconv.Atoi(r[1])
		s.Tx, errs[2] = strconv.ParseFloat(r[2], 64)
		s.T, errs[3] = strconv.ParseFloat(r[3], 64)
		if len(r) > 4 {
			s.Zbar, errs[4] = strconv.ParseFloat(r[4], 64)
		}
		for _, err := range errs {
			if err != nil {
				t.Fatalf("%s: row %v: %v", name, r, err)
			}
		}
		out = append(out, s)
	}
	return out
}

// Sample reads the transactions of CDNOW_sample.txt.
func Sample(t testing.TB) []Transaction {
	t.Helper()
	f, err := os.Open(path(t, "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Transaction
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("CDNOW_sample.txt: bad line %q", sc.Text())
		}
		id, err := strconv.Atoi(fs[1])
		if err != nil {
			t.Fatal(err)
		}
		d, err := time.Parse("20060102", fs[2])
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(fs[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Transaction{ID: id, Date: d.Format(time.DateOnly), Day: d.Unix() / 86400, Value: v, Amount: fs[4]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
