package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

func TestSourcesAndKeys(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		s := auth.NewStore(db, func() time.Time { return now })
		src, key, err := s.CreateSource(ctx, "shop.web", "web", 0)
		if err != nil || !strings.HasPrefix(key, "bwk_") || len(key) < 30 {
			t.Fatalf("create: %v %q", err, key)
		}
		for _, bad := range []struct{ name, channel string }{{"shop.web", "web"}, {"", "web"}, {"a b", "web"}, {"x", "fax"}} {
			if _, _, err := s.CreateSource(ctx, bad.name, bad.channel, 0); err == nil {
				t.Errorf("created %q/%q", bad.name, bad.channel)
			}
		}
		got, err := s.SourceByWriteKey(ctx, key)
		if err != nil || got.ID != src.ID || got.Channel != "web" || !strings.HasPrefix(key, strings.TrimSuffix(got.KeyPrefix, "…")) {
			t.Fatalf("by key: %+v %v", got, err)
		}
		// Only the hash is stored.
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM source_keys WHERE hash = ? OR prefix = ?", key, key).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the key is stored in clear (%d rows, %v)", n, err)
		}
		for _, k := range []string{"", "bwk_nope", key + "x"} {
			if _, err := s.SourceByWriteKey(ctx, k); !fault.Is(err, fault.Unauthorized) {
				t.Errorf("key %q: %v", k, err)
			}
		}
		// Rotation with a grace period: both keys work until it ends.
		key2, err := s.RotateSourceKey(ctx, "shop.web", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SourceByWriteKey(ctx, key); err != nil {
			t.Fatalf("old key during grace: %v", err)
		}
		now = now.Add(2 * time.Hour)
		if _, err := s.SourceByWriteKey(ctx, key); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("old key after grace: %v", err)
		}
		// Rotation without grace ends the previous key at once.
		key3, err := s.RotateSourceKey(ctx, "shop.web", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SourceByWriteKey(ctx, key2); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("rotated key: %v", err)
		}
		if err := s.SetSourceDisabled(ctx, "shop.web", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SourceByWriteKey(ctx, key3); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("disabled source: %v", err)
		}
		if err := s.SetSourceDisabled(ctx, "shop.web", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SourceByWriteKey(ctx, key3); err != nil {
			t.Fatalf("enabled again: %v", err)
		}
		if err := s.SetSourceRateLimit(ctx, "shop.web", 50); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListSources(ctx)
		if err != nil || len(list) != 1 || list[0].RateLimit != 50 || list[0].KeyPrefix == "" {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := s.SetSourceDisabled(ctx, "nope", true); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown source: %v", err)
		}
	})
}

func TestAPIKeysAndCaches(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := auth.NewStore(db, time.Now)
		k, token, err := s.CreateAPIKey(ctx, "reporting", "", nil)
		if err != nil || !strings.HasPrefix(token, "bak_") {
			t.Fatal(err)
		}
		cache := auth.NewAPIKeyCache(s, time.Hour)
		if got, err := cache.Get(ctx, token); err != nil || got.KeyID != k.ID || !got.Can(auth.SettingsWrite) {
			t.Fatalf("get: %+v %v", got, err)
		}
		if err := s.RevokeAPIKey(ctx, "reporting"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKeyByToken(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("revoked: %v", err)
		}
		if _, err := cache.Get(ctx, token); err != nil {
			t.Fatalf("a cached key should last its TTL: %v", err)
		}
		cache.Forget()
		if _, err := cache.Get(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("after Forget: %v", err)
		}
		if _, err := cache.Get(ctx, "bak_forged"); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("forged: %v", err)
		}
		keys, err := s.ListAPIKeys(ctx, "")
		if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
			t.Fatalf("list: %+v %v", keys, err)
		}
		if err := s.RevokeAPIKey(ctx, "reporting"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("revoking twice: %v", err)
		}
	})
}
