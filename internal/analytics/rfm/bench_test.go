package rfm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkScore scores a million customers in memory (the work of a
// refresh besides reading customer_stats and writing rfm_scores).
func BenchmarkScore(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	cs := make([]Customer, 1_000_000)
	for i := range cs {
		cs[i] = Customer{Profile: fmt.Sprint(i), Orders: 1 + int64(rng.ExpFloat64()*2), Monetary: int64(rng.ExpFloat64() * 8000),
			LastOrderAt: asOf.Add(-time.Duration(rng.IntN(700*24)) * time.Hour).UnixMilli()}
	}
	b.ResetTimer()
	for range b.N {
		Score(cs, asOf)
	}
}
