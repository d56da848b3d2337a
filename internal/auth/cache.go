package auth

import (
	"context"
	"sync"
	"time"
)

// SourceCache remembers authenticated write keys for a short while, so that
// ingestion does not query the database on every request. A key that is
// rotated out or a source that is disabled elsewhere (another node, the
// command line) stops working within the TTL; Forget makes it immediate on
// this node.
type SourceCache struct {
	store *Store
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]cached // by key hash
}

type cached struct {
	src     Source
	expires time.Time
}

// NewSourceCache returns a cache in front of store.
func NewSourceCache(store *Store, ttl time.Duration) *SourceCache {
	return &SourceCache{store: store, ttl: ttl, now: time.Now, entries: map[string]cached{}}
}

// Get authenticates a write key. Failures are never cached.
func (c *SourceCache) Get(ctx context.Context, key string) (Source, error) {
	h := hashKey(key)
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[h]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.src, nil
	}
	src, err := c.store.SourceByWriteKey(ctx, key)
	if err != nil {
		return Source{}, err
	}
	c.mu.Lock()
	if len(c.entries) > 10000 {
		clear(c.entries) // bounded: a few sources, a few keys each
	}
	c.entries[h] = cached{src: src, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return src, nil
}

// Forget drops every cached key.
func (c *SourceCache) Forget() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
