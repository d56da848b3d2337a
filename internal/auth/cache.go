package auth

import (
	"context"
	"sync"
	"time"
)

// cache remembers successful key checks for a short while, so that
// requests do not query the database every time. Failures are never cached.
// It is bounded: past maxEntries it starts afresh.
type cache[T any] struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]cached[T] // by key hash
}

type cached[T any] struct {
	val     T
	expires time.Time
}

const maxEntries = 10000

func (c *cache[T]) get(key string, load func() (T, error)) (T, error) {
	h := hashKey(key)
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[h]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.val, nil
	}
	v, err := load()
	if err != nil {
		var zero T
		return zero, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) > maxEntries {
		c.entries = map[string]cached[T]{}
	}
	c.entries[h] = cached[T]{val: v, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return v, nil
}

func (c *cache[T]) forget() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// SourceCache authenticates write keys through a short-lived cache: a key
// rotated out or a source disabled elsewhere (another node, the command
// line) stops working within the TTL; Forget makes it immediate on this node.
type SourceCache struct {
	store *Store
	c     cache[Source]
}

// NewSourceCache returns a cache in front of store.
func NewSourceCache(store *Store, ttl time.Duration) *SourceCache {
	return &SourceCache{store: store, c: cache[Source]{ttl: ttl, now: time.Now}}
}

// Get authenticates a write key.
func (c *SourceCache) Get(ctx context.Context, key string) (Source, error) {
	return c.c.get(key, func() (Source, error) { return c.store.SourceByWriteKey(ctx, key) })
}

// Forget drops every cached key.
func (c *SourceCache) Forget() { c.c.forget() }

// APIKeyCache authenticates API keys through a short-lived cache: a key
// revoked, or whose owner was disabled or changed role, elsewhere acts as
// before for at most the TTL; Forget makes the change immediate on this
// node.
type APIKeyCache struct {
	store *Store
	c     cache[Principal]
}

// NewAPIKeyCache returns a cache in front of store.
func NewAPIKeyCache(store *Store, ttl time.Duration) *APIKeyCache {
	return &APIKeyCache{store: store, c: cache[Principal]{ttl: ttl, now: time.Now}}
}

// Get authenticates a bearer token and returns who it acts for.
func (c *APIKeyCache) Get(ctx context.Context, token string) (Principal, error) {
	return c.c.get(token, func() (Principal, error) { return c.store.APIKeyByToken(ctx, token) })
}

// Forget drops every cached key.
func (c *APIKeyCache) Forget() { c.c.forget() }
