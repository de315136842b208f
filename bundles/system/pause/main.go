package main

import (
	"os"
	"os/signal"
	"syscall"
)

// usage is printed for any argument other than -v; the pause container is
// always started without arguments.
const usage = "usage: pause [-v]\n"

// version is the tag of the image this binary is shipped in.
const version = "3.10"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 {
		if len(args) == 1 && args[0] == "-v" {
			os.Stdout.WriteString("pause " + version + " (outpost)\n")
			return 0
		}
		os.Stderr.WriteString(usage)
		return 2
	}
	if os.Getpid() != 1 {
		// Not fatal: pid namespaces may be shared with the host in tests,
		// and upstream pause behaves the same way.
		os.Stderr.WriteString("pause: warning: not running as PID 1, orphans will not be reaped here\n")
	}

	// Signals are delivered through a channel; the Go runtime keeps its own
	// threads out of the way, so this process stays PID-1 safe: SIGINT and
	// SIGTERM end it with status 0 (a PID 1 gets no default handler from
	// the kernel), SIGCHLD triggers a reap of every exited child.
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		switch sig {
		case syscall.SIGCHLD:
			reapChildren()
		default:
			return 0
		}
	}
	return 0
}

// reapChildren collects every child that has exited. SIGCHLD is not queued,
// so one signal may stand for several exits; WNOHANG loops until none is
// left.
func reapChildren() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
