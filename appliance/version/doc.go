// Package version records the version of Outpost (set at link time) and of
// the upstream components it embeds.
package version
