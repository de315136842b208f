package alerting

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/outpost-platform/outpost/appliance/fsutil"
	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// Silence states, as in Alertmanager's API.
const (
	SilenceActive  = "active"
	SilencePending = "pending"
	SilenceExpired = "expired"
)

// expiredSilenceRetention is how long expired silences stay listed.
const expiredSilenceRetention = 5 * 24 * time.Hour

// SilenceMatcher is one matcher of a silence in Alertmanager's API v2 form.
type SilenceMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	// IsEqual is false for != and !~; absent means true.
	IsEqual *bool `json:"isEqual,omitempty"`
}

// Silence mutes every alert whose labels match all its matchers between
// StartsAt and EndsAt. Its JSON form is Alertmanager's API v2 silence.
type Silence struct {
	ID        string           `json:"id"`
	Matchers  []SilenceMatcher `json:"matchers"`
	StartsAt  time.Time        `json:"startsAt"`
	EndsAt    time.Time        `json:"endsAt"`
	UpdatedAt time.Time        `json:"updatedAt"`
	CreatedBy string           `json:"createdBy"`
	Comment   string           `json:"comment"`
	Status    struct {
		State string `json:"state"`
	} `json:"status"`

	matchers settings.Matchers
}

func (s *Silence) compile() error {
	if len(s.Matchers) == 0 {
		return errors.New("a silence needs at least one matcher")
	}
	s.matchers = s.matchers[:0]
	for _, m := range s.Matchers {
		typ := settings.MatchEqual
		equal := m.IsEqual == nil || *m.IsEqual
		switch {
		case m.IsRegex && equal:
			typ = settings.MatchRegexp
		case m.IsRegex:
			typ = settings.MatchNotRegexp
		case !equal:
			typ = settings.MatchNotEqual
		}
		cm, err := settings.NewMatcher(m.Name, typ, m.Value)
		if err != nil {
			return err
		}
		s.matchers = append(s.matchers, cm)
	}
	// A silence that matches the empty label set would mute everything.
	if s.matchers.Matches(map[string]string{}) {
		return errors.New("the matchers must not all match an empty label set: this silence would mute every alert")
	}
	return nil
}

func (s *Silence) state(now time.Time) string {
	switch {
	case !now.Before(s.EndsAt):
		return SilenceExpired
	case now.Before(s.StartsAt):
		return SilencePending
	}
	return SilenceActive
}

// Silences stores silences in memory and in one JSON file.
type Silences struct {
	path string
	now  func() time.Time

	mu       sync.RWMutex
	silences map[string]*Silence
}

// OpenSilences loads silences from path (missing file: none). now may be
// nil for time.Now.
func OpenSilences(path string, now func() time.Time) (*Silences, error) {
	if now == nil {
		now = time.Now
	}
	s := &Silences{path: path, now: now, silences: map[string]*Silence{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading silences: %w", err)
	}
	var list []*Silence
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("reading silences from %s: %w", path, err)
	}
	for _, sil := range list {
		if err := sil.compile(); err != nil {
			return nil, fmt.Errorf("silence %s in %s: %w", sil.ID, path, err)
		}
		s.silences[sil.ID] = sil
	}
	return s, nil
}

// Set creates a silence, or replaces the one with the same ID, and returns
// its ID. An ID that does not exist is an error, as in Alertmanager.
func (s *Silences) Set(sil Silence) (string, error) {
	now := s.now()
	if sil.StartsAt.IsZero() || sil.StartsAt.Before(now) {
		sil.StartsAt = now
	}
	if !sil.EndsAt.After(sil.StartsAt) {
		return "", errors.New("endsAt must be after startsAt and in the future")
	}
	if err := sil.compile(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sil.ID != "" {
		if _, ok := s.silences[sil.ID]; !ok {
			return "", fmt.Errorf("silence %s: %w", sil.ID, ErrNotFound)
		}
	} else {
		sil.ID = newID()
	}
	sil.UpdatedAt = now
	s.silences[sil.ID] = &sil
	return sil.ID, s.saveLocked()
}

// ErrNotFound is returned for an unknown silence ID or receiver name.
var ErrNotFound = errors.New("not found")

// Expire ends a silence now.
func (s *Silences) Expire(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sil, ok := s.silences[id]
	if !ok {
		return fmt.Errorf("silence %s: %w", id, ErrNotFound)
	}
	now := s.now()
	if sil.state(now) == SilenceExpired {
		return nil
	}
	c := *sil
	c.EndsAt, c.UpdatedAt = now, now
	if c.StartsAt.After(now) {
		c.StartsAt = now
	}
	s.silences[id] = &c
	return s.saveLocked()
}

// Get returns one silence with its current state.
func (s *Silences) Get(id string) (Silence, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sil, ok := s.silences[id]
	if !ok {
		return Silence{}, fmt.Errorf("silence %s: %w", id, ErrNotFound)
	}
	c := *sil
	c.Status.State = c.state(s.now())
	return c, nil
}

// List returns all silences, active first, newest first within a state.
func (s *Silences) List() []Silence {
	now := s.now()
	s.mu.RLock()
	out := make([]Silence, 0, len(s.silences))
	for _, sil := range s.silences {
		c := *sil
		c.Status.State = c.state(now)
		out = append(out, c)
	}
	s.mu.RUnlock()
	rank := map[string]int{SilenceActive: 0, SilencePending: 1, SilenceExpired: 2}
	slices.SortFunc(out, func(a, b Silence) int {
		if d := rank[a.Status.State] - rank[b.Status.State]; d != 0 {
			return d
		}
		return b.UpdatedAt.Compare(a.UpdatedAt)
	})
	return out
}

// Mutes returns the IDs of the active silences that match labels.
func (s *Silences) Mutes(labels map[string]string) []string {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for id, sil := range s.silences {
		if sil.state(now) == SilenceActive && sil.matchers.Matches(labels) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// GC forgets silences expired longer than the retention.
func (s *Silences) GC() error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	removed := false
	for id, sil := range s.silences {
		if now.Sub(sil.EndsAt) > expiredSilenceRetention {
			delete(s.silences, id)
			removed = true
		}
	}
	if !removed {
		return nil
	}
	return s.saveLocked()
}

func (s *Silences) saveLocked() error {
	list := make([]*Silence, 0, len(s.silences))
	for _, sil := range s.silences {
		list = append(list, sil)
	}
	slices.SortFunc(list, func(a, b *Silence) int { return a.StartsAt.Compare(b.StartsAt) })
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding silences: %w", err)
	}
	if err := fsutil.WriteFileAtomic(s.path, data, 0o644); err != nil {
		return fmt.Errorf("saving silences: %w", err)
	}
	return nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
