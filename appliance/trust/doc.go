// Package trust owns the appliance's trusted signing keys: ed25519 public
// keys (PKIX PEM) that bundles must be signed with, kept in the state
// database, plus key generation and parsing for the signing side.
package trust
