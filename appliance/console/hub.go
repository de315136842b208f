package console

import (
	"sync"
)

// change is one live update pushed to browsers: an object of Kind in Project
// ("" for cluster-scoped) was added, modified or deleted. Object is the same
// JSON view the list endpoint returns, so the UI can replace its row.
type change struct {
	Kind    string `json:"kind"`
	Project string `json:"project,omitempty"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Object  any    `json:"object,omitempty"`
}

// hub fans changes out to subscribers. A subscriber that cannot keep up is
// dropped (its channel closed); the browser reconnects and reloads the list,
// which is cheaper than letting one slow client hold everyone back.
type hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	ch     chan change
	filter func(change) bool
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

func (h *hub) subscribe(filter func(change) bool) *subscriber {
	s := &subscriber{ch: make(chan change, 256), filter: filter}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.ch)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

func (h *hub) publish(ch change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.filter != nil && !s.filter(ch) {
			continue
		}
		select {
		case s.ch <- ch:
		default:
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
}
