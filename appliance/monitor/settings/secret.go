package settings

import "encoding/json"

// Redacted is what a Secret turns into when marshalled to JSON.
const Redacted = "<secret>"

// Secret is a string that never leaves the process through JSON: a config
// dump or an API response shows Redacted instead. Bot webhook URLs carry
// their access token, so they are Secrets too.
type Secret string

// MarshalJSON writes Redacted for a non-empty secret.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte(`""`), nil
	}
	return json.Marshal(Redacted)
}

// Reveal returns the secret's value; call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// keepIfRedacted lets an API client send back a redacted value to mean
// "unchanged": the result is previous when s is Redacted.
func keepIfRedacted(s, previous Secret) Secret {
	if s == Redacted {
		return previous
	}
	return s
}
