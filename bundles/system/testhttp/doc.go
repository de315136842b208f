// Command http is the workload of Outpost's end-to-end tests and benchmarks,
// shipped as the image outpost.local/test/http:1.0 with /http as its
// entrypoint. One static binary with several verbs:
//
//	http serve [addr]       HTTP server (default :8080): "/" answers
//	                        "hello from <hostname>", "/healthz" answers "ok";
//	                        exits 0 on SIGTERM after draining connections
//	http get URL            prints the body; non-zero exit on any failure or
//	                        non-2xx status (names resolve through the pod's
//	                        /etc/resolv.conf with Go's own resolver)
//	http write FILE TEXT    writes TEXT and a newline to FILE
//	http read FILE          prints FILE
//	http sleep [DURATION]   sleeps (forever without DURATION); exits 0 on SIGTERM
//	http crash [SECONDS]    exits 1 after SECONDS (default 5): a crash loop
//	http burn [DURATION]    keeps one CPU busy (forever by default)
package main
