// Package problem defines the console's domain errors (not found, forbidden,
// invalid input with per-field reasons, conflict) so that every layer can say
// what went wrong and the HTTP layer maps each kind to one status code.
package problem
