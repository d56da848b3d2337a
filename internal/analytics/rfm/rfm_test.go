package rfm

import (
	"fmt"
	"testing"
	"time"
)

func TestQuintiles(t *testing.T) {
	for _, tc := range []struct {
		values []int64
		scores string
		edges  string
	}{
		// Ten distinct values: two per quintile.
		{[]int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, "[5 5 4 4 3 3 2 2 1 1]", "[3 5 7 9]"},
		// Seven: 1 + ⌊5w/7⌋ for w = 0..6 is 1 1 2 3 3 4 5.
		{[]int64{1, 2, 3, 4, 5, 6, 7}, "[1 1 2 3 3 4 5]", "[3 4 6 7]"},
		// A tie spanning quintiles takes the lowest score it spans: six 1s
		// score 1; the 2 has w = 6 and scores 1 + ⌊30/10⌋ = 4, so 2 and 3
		// are skipped and start where 4 does.
		{[]int64{1, 1, 1, 1, 1, 1, 2, 3, 4, 5}, "[1 1 1 1 1 1 4 4 5 5]", "[2 2 2 4]"},
		// Ties inside a quintile and across its edge: 1s w=0 → 1, 3s w=2 → 2,
		// 5s w=5 → 3, 9 w=9 → 5; nobody scores 4, which starts with 5.
		{[]int64{5, 5, 5, 5, 1, 1, 3, 3, 3, 9}, "[3 3 3 3 1 1 2 2 2 5]", "[3 5 9 9]"},
		// Everybody equal: everybody 1, no edges.
		{[]int64{4, 4, 4}, "[1 1 1]", "[<nil> <nil> <nil> <nil>]"},
		{[]int64{42}, "[1]", "[<nil> <nil> <nil> <nil>]"},
		{nil, "[]", "[<nil> <nil> <nil> <nil>]"},
	} {
		var e Edges
		got := quintiles(tc.values, &e)
		if fmt.Sprint(got) != tc.scores || edgeString(e) != tc.edges {
			t.Errorf("quintiles(%v) = %v %s, want %s %s", tc.values, got, edgeString(e), tc.scores, tc.edges)
		}
	}
}

func edgeString(e Edges) string {
	var out []any
	for _, x := range e {
		if x == nil {
			out = append(out, nil)
		} else {
			out = append(out, *x)
		}
	}
	return fmt.Sprint(out)
}

func TestSegmentGrid(t *testing.T) {
	reached := map[string]bool{}
	for r := 1; r <= 5; r++ {
		for fm := 1; fm <= 5; fm++ {
			reached[Segment(r, fm)] = true
		}
	}
	if len(reached) != 11 || len(Segments) != 11 {
		t.Fatalf("grid reaches %d segments: %v", len(reached), reached)
	}
	for _, tc := range []struct {
		r, f, m int
		want    string
	}{
		{5, 5, 5, Champions}, {5, 4, 3, Champions}, {4, 5, 5, Loyal}, {3, 4, 4, Loyal},
		{5, 3, 3, PotentialLoyalist}, {4, 2, 1, PotentialLoyalist}, {5, 1, 1, New}, {4, 1, 1, Promising},
		{3, 3, 3, NeedAttention}, {3, 1, 2, AboutToSleep}, {3, 1, 1, AboutToSleep}, {2, 4, 3, AtRisk},
		{1, 2, 3, AtRisk}, {1, 5, 5, CantLoseThem}, {2, 5, 4, CantLoseThem}, {2, 2, 1, Hibernating},
		{2, 1, 1, Hibernating}, {1, 1, 2, Lost}, {1, 1, 1, Lost},
	} {
		if got := Segment(tc.r, FM(tc.f, tc.m)); got != tc.want {
			t.Errorf("R%d F%d M%d (FM %d) → %s, want %s", tc.r, tc.f, tc.m, FM(tc.f, tc.m), got, tc.want)
		}
	}
	for in, want := range map[string]string{"cant-lose-them": CantLoseThem, "CAN'T LOSE THEM": CantLoseThem, "about_to_sleep": AboutToSleep, "champions": Champions, "Potential Loyalist": PotentialLoyalist} {
		if got, ok := ParseSegment(in); !ok || got != want {
			t.Errorf("ParseSegment(%q) = %q %v", in, got, ok)
		}
	}
	if _, ok := ParseSegment("whales"); ok {
		t.Error("unknown segment parsed")
	}
}

func TestRecencyDays(t *testing.T) {
	asOf := time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)
	ms := func(s string) int64 { tm, _ := time.Parse(time.RFC3339, s); return tm.UnixMilli() }
	for last, want := range map[string]int64{
		"2025-03-10T23:59:00Z": 0, // later the same day
		"2025-03-10T00:00:00Z": 0,
		"2025-03-09T23:59:59Z": 1, // yesterday, 8 hours ago
		"2025-02-28T12:00:00Z": 10,
		"2025-03-12T00:00:00Z": 0,     // after as_of: never negative
		"1969-12-31T23:00:00Z": 20158, // day -1 to day 20157
	} {
		if got := RecencyDays(ms(last), asOf); got != want {
			t.Errorf("RecencyDays(%s) = %d, want %d", last, got, want)
		}
	}
}

// Score on a hand-computed base of ten customers.
func TestScore(t *testing.T) {
	asOf := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	day := func(d int) int64 { return asOf.AddDate(0, 0, -d).UnixMilli() }
	cs := []Customer{
		{"a", 9, 90000, day(1)},  // R: days 1 best → w=9 → 5
		{"b", 8, 80000, day(2)},  // 5
		{"c", 1, 500, day(3)},    // 4
		{"d", 1, 400, day(4)},    // 4
		{"e", 2, 3000, day(5)},   // 3
		{"f", 2, 3000, day(5)},   // tie with e → 3
		{"g", 7, 70000, day(90)}, // 2
		{"h", 1, 100, day(95)},   // 2
		{"i", 6, 60000, day(200)},
		{"j", 1, 100, day(300)},
	}
	// F: values 9 8 1 1 2 2 7 1 6 1 → four 1s (w 0 → 1), two 2s (w 4 → 3),
	// 6 (w 6 → 4), 7 (w 7 → 4), 8 (w 8 → 5), 9 (w 9 → 5).
	// M: 90000 80000 500 400 3000 3000 70000 100 60000 100 → 100s (w 0 → 1),
	// 400 (w 2 → 2), 500 (w 3 → 2), 3000s (w 4 → 3), 60000 (w 6 → 4),
	// 70000 (w 7 → 4), 80000 (→ 5), 90000 (→ 5).
	want := map[string]string{
		"a": "R5 F5 M5 FM5 Champions",
		"b": "R5 F5 M5 FM5 Champions",
		"c": "R4 F1 M2 FM2 Potential Loyalist",
		"d": "R4 F1 M2 FM2 Potential Loyalist",
		"e": "R3 F3 M3 FM3 Need Attention",
		"f": "R3 F3 M3 FM3 Need Attention",
		"g": "R2 F4 M4 FM4 At Risk",
		"h": "R2 F1 M1 FM1 Hibernating",
		"i": "R1 F4 M4 FM4 At Risk",
		"j": "R1 F1 M1 FM1 Lost",
	}
	scored, edges := Score(cs, asOf)
	for _, s := range scored {
		got := fmt.Sprintf("R%d F%d M%d FM%d %s", s.R, s.F, s.M, s.FM, s.Segment)
		if got != want[s.Profile] {
			t.Errorf("%s: %s, want %s", s.Profile, got, want[s.Profile])
		}
	}
	if got := edgeString(edges[0]) + edgeString(edges[1]) + edgeString(edges[2]); got != "[95 5 4 2][2 2 6 8][400 3000 60000 80000]" {
		t.Errorf("edges %s", got)
	}
	sum := Summarise(scored, edges, asOf, asOf, "EUR")
	if sum.Customers != 10 || sum.Revenue.Minor != 307100 || len(sum.Cells) != 25 || len(sum.Segments) != 11 {
		t.Fatalf("summary %+v", sum)
	}
	if s := sum.Segments[0]; s.Segment != Champions || s.Customers != 2 || s.Share != 0.2 || s.Revenue.Amount != "1700.00" {
		t.Errorf("champions %+v", s)
	}
	if s := sum.Segments[7]; s.Segment != AtRisk || s.Customers != 2 || s.Revenue.Minor != 130000 {
		t.Errorf("at risk %+v", s)
	}
	// The first cell is FM 5, R 1; the cell R2 FM4 holds g alone.
	if c := sum.Cells[0]; c.R != 1 || c.FM != 5 || c.Segment != CantLoseThem || c.Customers != 0 {
		t.Errorf("first cell %+v", c)
	}
	if c := sum.Cells[6]; c.R != 2 || c.FM != 4 || c.Customers != 1 || c.Revenue.Minor != 70000 {
		t.Errorf("cell R2 FM4 %+v", c)
	}
}
