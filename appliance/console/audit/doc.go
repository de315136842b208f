// Package audit records every change made through the console or its API —
// who, from where, what action on which object, what changed, the result and
// when — in the console database, and answers searches and exports.
package audit
