package kube

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"sync"
)

// Encoded is a list answer ({"items": [...]}) encoded once and served to
// every reader until the cache behind it changes. Under load the same
// project's list is read many times between two changes; encoding it per
// request cost more than everything else the console does.
type Encoded struct {
	JSON []byte
	// items is the slice that was encoded, for callers that filter it.
	items any

	gzOnce sync.Once
	gz     []byte
}

// Gzip returns the JSON compressed, computed at most once.
func (e *Encoded) Gzip() []byte {
	e.gzOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		zw.Write(e.JSON)
		zw.Close()
		e.gz = b.Bytes()
	})
	return e.gz
}

// encodedCache holds Encoded answers by key ("pods/<ns>") and drops them
// when the informers report a change.
type encodedCache struct {
	mu      sync.Mutex
	entries map[string]*Encoded
	// gen counts invalidations per key, so that an answer built while a
	// change arrived is not stored as current.
	gen map[string]uint64
}

func newEncodedCache() *encodedCache {
	return &encodedCache{entries: map[string]*Encoded{}, gen: map[string]uint64{}}
}

func (e *encodedCache) get(key string, build func() (any, error)) (*Encoded, error) {
	e.mu.Lock()
	if enc, ok := e.entries[key]; ok {
		e.mu.Unlock()
		return enc, nil
	}
	g := e.gen[key]
	e.mu.Unlock()
	items, err := build()
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(map[string]any{"items": items})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", key, err)
	}
	enc := &Encoded{JSON: data, items: items}
	e.mu.Lock()
	if e.gen[key] == g {
		e.entries[key] = enc
	}
	e.mu.Unlock()
	return enc, nil
}

func (e *encodedCache) invalidate(keys ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range keys {
		e.gen[k]++
		delete(e.entries, k)
	}
}

// invalidatePrefix drops every key starting with prefix (e.g. "nodes/").
func (e *encodedCache) invalidatePrefix(prefix string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.entries {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			e.gen[k]++
			delete(e.entries, k)
		}
	}
}

// PodsList is Pods(ns), encoded and cached.
func (c *Cluster) PodsList(ns string) (*Encoded, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.encoded.get(KindPods+"/"+ns, func() (any, error) { return c.Pods(ns) })
}

// WorkloadsList is Workloads(ns, ""), encoded and cached.
func (c *Cluster) WorkloadsList(ns string) (*Encoded, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.encoded.get(workloadsKey(ns), func() (any, error) { return c.Workloads(ns, "") })
}

// ObjectsList is Objects(ns, kind), encoded and cached.
func (c *Cluster) ObjectsList(ns, kind string) (*Encoded, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.encoded.get(kind+"/"+ns, func() (any, error) { return c.Objects(ns, kind) })
}

// EventsList is Events(ns), encoded and cached.
func (c *Cluster) EventsList(ns string) (*Encoded, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.encoded.get(KindEvents+"/"+ns, func() (any, error) { return c.Events(ns) })
}

// NodesList is Nodes(), encoded and cached.
func (c *Cluster) NodesList() (*Encoded, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.encoded.get(KindNodes+"/", func() (any, error) { return c.Nodes() })
}
