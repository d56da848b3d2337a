package ticket

import "testing"

func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{5}, 0.5, 5},
		{[]float64{5}, 0.9, 5},
		{[]float64{120, 2, 60, 10}, 0.5, 35},  // between 10 and 60
		{[]float64{120, 2, 60, 10}, 0.9, 102}, // rank 2.7: 60 + 0.7 × 60
		{[]float64{30, 600, 100}, 0.9, 500},   // rank 1.8: 100 + 0.8 × 500
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9.1},
		{[]float64{0.04, 0.05}, 0.5, 0.0}, // 0.045 rounds to one decimal
	} {
		if got := Percentile(c.xs, c.p); got == nil || *got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
	}
	if Percentile(nil, 0.5) != nil {
		t.Error("a percentile of nothing")
	}
}

func TestByDesk(t *testing.T) {
	for author, desk := range map[string]bool{"": true, "agent": true, "bot": true, "Customer": false, "end-user": false, "requester": false} {
		if byDesk(author) != desk {
			t.Errorf("%q: by desk %v", author, !desk)
		}
	}
}
