// Package identity owns console accounts: local users with argon2id password
// hashes, API tokens for scripts, known-device tokens that exempt a browser
// from account-wide login throttling, and OIDC single sign-on with
// claim-to-role mapping.
package identity
