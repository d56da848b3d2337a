package kpi

import (
	"os"
	"strings"
	"testing"
)

// docs/kpis.md carries every definition the API sends, word for word.
func TestDefinitionsMatchDocs(t *testing.T) {
	b, err := os.ReadFile("../../../docs/kpis.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, d := range definitions {
		row := "| " + d.label + " | `" + d.key + "` | " + d.text + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/kpis.md has no row %q", row)
		}
	}
	if !strings.Contains(doc, CohortDefinition) {
		t.Error("docs/kpis.md lacks the cohort definition")
	}
}

// Facts survive their encoding, and a contribution subtracted from itself
// leaves nothing.
func TestFactsRoundTrip(t *testing.T) {
	f := facts{campaign: "spring", cells: []cell{
		{day: 20000, channel: "web", orders: 2, baseOrders: 1, gross: 4990},
		{day: 20031, channel: "pos", store: "milano", orders: 1, baseOrders: 1, gross: 1250, refund: 250},
		{day: 20040, channel: "web", refund: 1000},
	}}
	g, err := decodeFacts(f.encode())
	if err != nil || g.campaign != f.campaign || len(g.cells) != 3 || g.cells[1] != f.cells[1] || g.cells[2] != f.cells[2] {
		t.Fatalf("decoded %+v %v", g, err)
	}
	if _, err := decodeFacts([]byte{1, 200}); err == nil {
		t.Error("corrupt facts decoded")
	}
	d := newDelta()
	d.add(&f, 1, 30)
	// 3 days in all, 2 in web: lost after the web gap of 40 days and at the end.
	if v := d.daily[dailyKey{dimChannel, 20030, "web"}]; v == nil || v.lost != 1 {
		t.Errorf("web lost on day 20030: %+v", v)
	}
	if v := d.daily[dailyKey{dimAll, 20031, ""}]; v == nil || v.seconds != 1 || v.refund != 250 {
		t.Errorf("second order day: %+v", v)
	}
	if v := d.cohorts[cohortKey{MonthOf(20000), 1}]; v == nil || v.customers != 1 || v.revenue != 1250-250-1000 {
		t.Errorf("cohort month 1: %+v", v)
	}
	d.add(&g, -1, 30)
	d.prune()
	if d.size() != 0 {
		t.Errorf("left over %d entries", d.size())
	}
}
