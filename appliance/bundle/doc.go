// Package bundle owns Outpost's offline bundle format (docs/bundle-format.md):
// creating bundles from images, charts and manifests (full or delta against a
// previous bundle), signing and verifying them, reading them as a stream, and
// importing them into the local registry with every blob verified, nothing
// partial visible, and resumption after a crash. It also keeps the import
// history in the state database and serves imports to the CLI and console.
package bundle
