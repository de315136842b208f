// Command pause is the sandbox ("infra") container of every pod: it holds
// the pod's namespaces open, reaps orphaned children as PID 1 and otherwise
// does nothing.
package main
