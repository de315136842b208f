// Package adapt connects the console's small interfaces (console.Registry,
// console.BundleImporter) to the appliance's local registry and bundle
// importer, so that the server wires them with one call each and the console
// package itself depends on neither.
package adapt
