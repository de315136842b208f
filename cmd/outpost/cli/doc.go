// Package cli defines Outpost's cobra command tree. It is the only package
// that knows about flags: each command turns them into typed configuration
// from appliance/config and hands it to the appliance packages.
package cli
