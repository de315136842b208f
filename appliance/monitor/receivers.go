package monitor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/outpost-platform/outpost/appliance/fsutil"
	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// receiverStore keeps the receivers created through the API, in a YAML file
// readable only by root because it holds their tokens. (YAML rather than
// JSON because settings.Secret redacts itself in JSON.)
type receiverStore struct {
	path string

	mu        sync.Mutex
	receivers []settings.Receiver
}

// openReceiverStore loads the file. A file that cannot be parsed is moved
// aside and logged, so that a damaged file costs the API receivers, not
// monitoring.
func openReceiverStore(path string, logger *slog.Logger) *receiverStore {
	s := &receiverStore{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s
	}
	if err == nil {
		err = yaml.Unmarshal(data, &s.receivers)
	}
	if err == nil {
		for i := range s.receivers {
			if verr := s.receivers[i].Validate(); verr != nil {
				err = fmt.Errorf("receiver %q: %w", s.receivers[i].Name, verr)
				break
			}
		}
	}
	if err != nil {
		aside := fmt.Sprintf("%s.broken-%d", path, time.Now().Unix())
		_ = os.Rename(path, aside)
		logger.Error("API-managed alert receivers could not be read; moved the file aside and starting without them",
			"file", path, "moved_to", aside, "err", err)
		s.receivers = nil
	}
	return s
}

func (s *receiverStore) list() []settings.Receiver {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.receivers)
}

func (s *receiverStore) get(name string) (settings.Receiver, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.receivers {
		if r.Name == name {
			return r, true
		}
	}
	return settings.Receiver{}, false
}

// put adds or replaces a receiver, then persists; apply is called with the
// new list before it is saved and can veto it.
func (s *receiverStore) put(r settings.Receiver, apply func([]settings.Receiver) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := slices.Clone(s.receivers)
	i := slices.IndexFunc(next, func(x settings.Receiver) bool { return x.Name == r.Name })
	if i >= 0 {
		next[i] = r
	} else {
		next = append(next, r)
	}
	return s.commitLocked(next, apply)
}

func (s *receiverStore) delete(name string, apply func([]settings.Receiver) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(s.receivers), func(x settings.Receiver) bool { return x.Name == name })
	if len(next) == len(s.receivers) {
		return fmt.Errorf("receiver %s: %w", name, errNotFound)
	}
	return s.commitLocked(next, apply)
}

func (s *receiverStore) commitLocked(next []settings.Receiver, apply func([]settings.Receiver) error) error {
	if err := apply(next); err != nil {
		return err
	}
	data, err := yaml.Marshal(next)
	if err != nil {
		return fmt.Errorf("encoding receivers: %w", err)
	}
	if err := fsutil.WriteFileAtomic(s.path, data, 0o600); err != nil {
		return fmt.Errorf("saving receivers: %w", err)
	}
	s.receivers = next
	return nil
}

var errNotFound = errors.New("not found")
