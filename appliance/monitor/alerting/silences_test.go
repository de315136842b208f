package alerting

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestSilencesPersistMatchAndExpire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "silences.json")
	s, err := OpenSilences(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	notEqual := false
	id, err := s.Set(Silence{
		Matchers: []SilenceMatcher{{Name: "namespace", Value: "shop|pay", IsRegex: true}, {Name: "severity", Value: "info", IsEqual: &notEqual}},
		EndsAt:   time.Now().Add(time.Hour), CreatedBy: "ops", Comment: "deploy window",
	})
	if err != nil {
		t.Fatal(err)
	}
	reopened, err := OpenSilences(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels map[string]string
		muted  bool
	}{
		{map[string]string{"namespace": "shop", "severity": "critical"}, true},
		{map[string]string{"namespace": "pay"}, true},
		{map[string]string{"namespace": "shop", "severity": "info"}, false},
		{map[string]string{"namespace": "shopping"}, false},
	} {
		if got := len(reopened.Mutes(tc.labels)) > 0; got != tc.muted {
			t.Errorf("Mutes(%v) = %v, want %v", tc.labels, got, tc.muted)
		}
	}
	if err := reopened.Expire(id); err != nil {
		t.Fatal(err)
	}
	if got, _ := reopened.Get(id); got.Status.State != SilenceExpired {
		t.Fatalf("state after expire = %q", got.Status.State)
	}
	if len(reopened.Mutes(map[string]string{"namespace": "shop"})) != 0 {
		t.Fatal("expired silence still mutes")
	}
}

func TestSilenceRejectsBadInput(t *testing.T) {
	s, err := OpenSilences(filepath.Join(t.TempDir(), "s.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	for name, sil := range map[string]Silence{
		"no matchers":       {EndsAt: future},
		"matches all":       {Matchers: []SilenceMatcher{{Name: "a", Value: ".*", IsRegex: true}}, EndsAt: future},
		"bad regexp":        {Matchers: []SilenceMatcher{{Name: "a", Value: "(", IsRegex: true}}, EndsAt: future},
		"bad label name":    {Matchers: []SilenceMatcher{{Name: "1a", Value: "x"}}, EndsAt: future},
		"ends in the past":  {Matchers: []SilenceMatcher{{Name: "a", Value: "x"}}, EndsAt: time.Now().Add(-time.Hour)},
		"unknown id update": {ID: "nope", Matchers: []SilenceMatcher{{Name: "a", Value: "x"}}, EndsAt: future},
	} {
		if _, err := s.Set(sil); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if err := s.Expire("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Expire(unknown) = %v, want ErrNotFound", err)
	}
}
