package csvimport

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
)

// dryRun runs the whole pipeline, ingester parsing included, storing nothing.
func dryRun(t *testing.T, data string, o Options) (Summary, error) {
	t.Helper()
	return dryRunB(t, data, o)
}

func dryRunB(t testing.TB, data string, o Options) (Summary, error) {
	o.DryRun = true
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	ig := event.NewIngester(event.NewCommitter(nil, event.CommitterOptions{}), event.DefaultLimits(), o.Now)
	rules := identity.DefaultRules(o.PhoneRegion)
	return run(context.Background(), ig, &rules, strings.NewReader(data), o)
}

func TestRunSummaryAndRejects(t *testing.T) {
	var rejects bytes.Buffer
	o := testOptions(Orders)
	o.Rejects = &rejects
	o.BatchEvents = 2 // several batches, to check that results come back in line order
	var progress []Progress
	o.Progress = func(p Progress) { progress = append(progress, p) }
	sum, err := dryRun(t, readFixture(t, "orders_it.csv"), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 14 || sum.Orders != 12 || sum.Events != 9 || sum.Rejected != 7 || sum.Imported != 0 || sum.Duplicates != 0 || sum.Quarantined != 0 {
		t.Errorf("summary = rows %d, orders %d, events %d, rejected %d, imported %d, duplicates %d, quarantined %d; want 14, 12, 9, 7, 0, 0, 0",
			sum.Rows, sum.Orders, sum.Events, sum.Rejected, sum.Imported, sum.Duplicates, sum.Quarantined)
	}
	if sum.Delimiter != ';' || !sum.BOM || sum.Fields["order_id"] != "Numero ordine" || sum.Fields["quantity"] != "Quantità" || strings.Join(sum.Extras, ",") != "Note" {
		t.Errorf("file = %q, BOM %v, fields %v, extras %v", sum.Delimiter, sum.BOM, sum.Fields, sum.Extras)
	}
	var got []string
	for _, r := range sum.Rejections {
		got = append(got, strings.Join([]string{itoa(r.Line), itoa(r.LastLine)}, "-")+" "+r.Reason)
	}
	want := []string{
		`8-8 order_date: date "32/05/2024" is not a date`,
		`9-9 the order has no customer_id, email, phone or loyalty_card`,
		`10-10 order "A1001" already appeared at line 2`,
		`11-11 total: amount "12,5,0" is not a number`,
		`12-12 the row has 3 columns; the header has 22`,
		`13-14 the order is rejected because of line 14: total "11,00" differs from "10,00" on line 13`,
	}
	if len(got) != len(want) {
		t.Fatalf("rejections:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], strings.SplitN(want[i], " ", 2)[0]) || !strings.Contains(got[i], strings.SplitN(want[i], " ", 2)[1]) {
			t.Errorf("rejection %d = %s; want %s", i, got[i], want[i])
		}
	}
	// The rejects file: same delimiter and BOM, the header plus reject_reason,
	// every rejected row with its cells unchanged.
	b := rejects.Bytes()
	if !bytes.HasPrefix(b, []byte("\ufeff")) {
		t.Errorf("the rejects file lost the BOM")
	}
	r := csv.NewReader(bytes.NewReader(b[3:]))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 8 || recs[0][0] != "Numero ordine" || recs[0][22] != "reject_reason" {
		t.Fatalf("rejects file has %d records; header %q", len(recs), recs[0])
	}
	if recs[1][0] != "A1006" || recs[1][1] != "32/05/2024" || !strings.HasPrefix(recs[1][22], "line 8: order_date") {
		t.Errorf("first reject = %q", recs[1])
	}
	if recs[5][0] != "A1009" || len(recs[5]) != 23 || !strings.HasPrefix(recs[5][22], "line 12: the row has 3 columns") {
		t.Errorf("short row is padded: %q", recs[5])
	}
	if !strings.HasPrefix(recs[6][22], "lines 13-14: the order is rejected because of line 14: total") || recs[7][22] != recs[6][22] || recs[7][4] != "11,00" {
		t.Errorf("both rows of the order are written: %q / %q", recs[6][22], recs[7][22])
	}
	// A rejects file is importable again: reject_reason is ignored. Alone,
	// A1001 no longer reappears and A1009, padded to the header's width, is
	// a complete (if empty) order; the other rows fail for the same reasons.
	again, err := dryRun(t, string(b), testOptions(Orders))
	if err != nil || again.Rejected != 5 || again.Events != 2 {
		t.Errorf("re-reading the rejects file: %d rejected, %d events, %v", again.Rejected, again.Events, err)
		for _, r := range again.Rejections {
			t.Logf("%d-%d %s", r.Line, r.LastLine, r.Reason)
		}
	}
	if len(progress) == 0 || progress[len(progress)-1].Rows != 14 {
		t.Errorf("progress = %v", progress)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i].Rows < progress[i-1].Rows {
			t.Errorf("progress went back: %v", progress)
		}
	}
}

// An event that ingestion quarantines is reported against its row.
func TestRunQuarantineMapsToLine(t *testing.T) {
	data := "customer_id,email\nc1,a@example.com\nc\x012,b@example.com\nc3,c@example.com\n"
	sum, err := dryRun(t, data, testOptions(Customers))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Quarantined != 1 || sum.Rejected != 1 || len(sum.Rejections) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	r := sum.Rejections[0]
	if r.Line != 3 || !strings.Contains(r.Reason, "ingestion quarantined the identify event (invalid_identifier): userId holds control characters") {
		t.Errorf("rejection = %+v", r)
	}
}

func TestRunKeepsFirstRejections(t *testing.T) {
	var b strings.Builder
	b.WriteString("email\n")
	for range 50 {
		b.WriteString("nobody\n")
	}
	sum, err := dryRun(t, b.String(), testOptions(Customers))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 50 || len(sum.Rejections) != DefaultKeep || sum.Rejections[0].Line != 2 || sum.Rejections[DefaultKeep-1].Line != DefaultKeep+1 {
		t.Errorf("rejected %d, kept %d from line %d", sum.Rejected, len(sum.Rejections), sum.Rejections[0].Line)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// An interrupted import (Ctrl-C) says so, and what was done stays done.
func TestRunInterrupted(t *testing.T) {
	o := testOptions(Orders)
	o.DryRun = true
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	ig := event.NewIngester(event.NewCommitter(nil, event.CommitterOptions{}), event.DefaultLimits(), o.Now)
	rules := identity.DefaultRules("IT")
	ctx, cancel := context.WithCancel(context.Background())
	o.BatchEvents = 10
	o.Progress = func(p Progress) {
		if p.Rows >= 100 {
			cancel()
		}
	}
	sum, err := run(ctx, ig, &rules, strings.NewReader(benchOrders(5000)), o)
	if fault.CodeOf(err) != fault.Unavailable || !strings.Contains(fault.MessageOf(err), "interrupted") {
		t.Fatalf("error = %v", err)
	}
	if sum.Events < 10 || sum.Events >= 5000 {
		t.Errorf("%d events handled before the interruption", sum.Events)
	}
}
