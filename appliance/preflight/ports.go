package preflight

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func (h *host) checkPort(p Port) Result {
	res := Result{Name: fmt.Sprintf("port %d", p.Number)}
	if p.Number < 1 || p.Number > 65535 {
		res.Status, res.Detail = Fail, fmt.Sprintf("%d is not a TCP port (for %s)", p.Number, p.Component)
		return res
	}
	// Listening on the wildcard address conflicts with a listener on any
	// single address, which is what the component will meet too.
	l, err := net.Listen("tcp", ":"+strconv.Itoa(p.Number))
	if err == nil {
		l.Close()
		res.Status, res.Detail = Pass, "free for "+p.Component
		return res
	}
	res.Status = Fail
	res.Fix = "stop it"
	if p.Setting != "" {
		res.Fix += " or set " + p.Setting
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		res.Detail = fmt.Sprintf("cannot listen for %s: %v", p.Component, err)
		return res
	}
	res.Detail = "in use"
	if holder := h.portHolder(p.Number); holder != "" {
		res.Detail += " by " + holder
	}
	res.Detail += ", needed by " + p.Component
	return res
}

// portHolder names the process listening on TCP port, as "nginx (pid 123)",
// or returns "" when it cannot tell (for example a listener in another
// network namespace's view, or a process whose fds we cannot read).
func (h *host) portHolder(port int) string {
	var inodes []string
	for _, table := range []string{"net/tcp", "net/tcp6"} {
		data, err := os.ReadFile(h.proc(table))
		if err != nil {
			continue
		}
		inodes = append(inodes, listeningInodes(string(data), port)...)
	}
	if len(inodes) == 0 {
		return ""
	}
	want := map[string]bool{}
	for _, ino := range inodes {
		want["socket:["+ino+"]"] = true
	}
	procs, err := os.ReadDir(h.procDir)
	if err != nil {
		return ""
	}
	var holders []string
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(h.proc(p.Name() + "/fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(h.proc(p.Name() + "/fd/" + fd.Name()))
			if err == nil && want[target] {
				comm, _ := os.ReadFile(h.proc(p.Name() + "/comm"))
				holders = append(holders, fmt.Sprintf("%s (pid %d)", strings.TrimSpace(string(comm)), pid))
				break
			}
		}
	}
	return strings.Join(holders, ", ")
}

// listeningInodes returns the socket inodes of sockets in state LISTEN on
// port, from the text of /proc/net/tcp or /proc/net/tcp6.
func listeningInodes(table string, port int) []string {
	const listen = "0A"
	var inodes []string
	for _, line := range strings.Split(table, "\n")[1:] {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != listen {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(n) == port {
			inodes = append(inodes, f[9])
		}
	}
	return inodes
}
