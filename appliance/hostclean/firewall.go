package hostclean

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// iptablesTools are the iptables front ends whose rules Reset cleans: both
// address families, and the legacy backend next to the nf_tables one since
// kube-proxy and the CNI plugins use whichever the host's iptables is.
var iptablesTools = []string{"iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy"}

// iptablesPlan is what Reset removes from one iptables-save dump.
type iptablesPlan struct {
	// script is iptables-restore --noflush input: per table, delete the
	// rules of other chains that jump to an Outpost chain, flush every
	// Outpost chain (they jump to each other), then delete them.
	script string
	// removed describes each deleted rule and chain for the report.
	removed []string
}

// planIPTables reads iptables-save output and plans the removal of every
// chain whose name starts with one of prefixes. Working from the dump and
// restoring with --noflush, rather than piping a filtered dump back into a
// flushing iptables-restore, leaves rules that others add meanwhile alone.
func planIPTables(save string, prefixes []string) iptablesPlan {
	ours := func(chain string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(chain, p) {
				return true
			}
		}
		return false
	}
	var plan iptablesPlan
	var script strings.Builder
	var table string
	var chains, deletes []string
	flushTable := func() {
		if len(chains) == 0 && len(deletes) == 0 {
			return
		}
		fmt.Fprintf(&script, "*%s\n", table)
		for _, d := range deletes {
			script.WriteString(d + "\n")
			plan.removed = append(plan.removed, fmt.Sprintf("rule %s %s", table, strings.TrimPrefix(d, "-D ")))
		}
		for _, ch := range chains {
			fmt.Fprintf(&script, "-F %s\n", ch)
		}
		for _, ch := range chains {
			fmt.Fprintf(&script, "-X %s\n", ch)
			plan.removed = append(plan.removed, fmt.Sprintf("chain %s %s", table, ch))
		}
		script.WriteString("COMMIT\n")
	}
	for _, line := range strings.Split(save, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table, chains, deletes = strings.TrimPrefix(line, "*"), nil, nil
		case strings.HasPrefix(line, ":"):
			if name, _, _ := strings.Cut(line[1:], " "); ours(name) {
				chains = append(chains, name)
			}
		case strings.HasPrefix(line, "-A "):
			f := strings.Fields(line)
			if len(f) < 2 || ours(f[1]) {
				continue // goes with its chain
			}
			for i := 2; i+1 < len(f); i++ {
				if (f[i] == "-j" || f[i] == "-g" || f[i] == "--jump" || f[i] == "--goto") && ours(f[i+1]) {
					deletes = append(deletes, "-D "+strings.TrimPrefix(line, "-A "))
					break
				}
			}
		case line == "COMMIT":
			flushTable()
			table, chains, deletes = "", nil, nil
		}
	}
	plan.script = script.String()
	return plan
}

func (c *cleaner) removeIPTablesChains(ctx context.Context) error {
	if len(c.opts.ChainPrefixes) == 0 {
		return nil
	}
	var errs []error
	for _, tool := range iptablesTools {
		save, err1 := exec.LookPath(tool + "-save")
		restore, err2 := exec.LookPath(tool + "-restore")
		if err1 != nil || err2 != nil {
			continue
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, save)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w: %s", save, err, strings.TrimSpace(stderr.String())))
			continue
		}
		plan := planIPTables(string(out), c.opts.ChainPrefixes)
		if plan.script == "" {
			continue
		}
		cmd = exec.CommandContext(ctx, restore, "--noflush")
		cmd.Stdin = strings.NewReader(plan.script)
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s --noflush: %w: %s", restore, err, strings.TrimSpace(string(out))))
			continue
		}
		for _, r := range plan.removed {
			c.rep.add("deleted "+tool, "%s", r)
		}
	}
	return errors.Join(errs...)
}

// nftTablesToDelete returns "family name" for each table in `nft list
// tables` output whose name is one of names.
func nftTablesToDelete(list string, names []string) [][2]string {
	var out [][2]string
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "table" && slices.Contains(names, f[2]) {
			out = append(out, [2]string{f[1], f[2]})
		}
	}
	return out
}

// removeNftTables deletes kube-proxy's nftables tables (nftables mode keeps
// all its rules in tables of its own).
func (c *cleaner) removeNftTables(ctx context.Context) error {
	if len(c.opts.NftTables) == 0 {
		return nil
	}
	nft, err := exec.LookPath("nft")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, nft, "list", "tables").CombinedOutput()
	if err != nil {
		return fmt.Errorf("nft list tables: %w: %s", err, strings.TrimSpace(string(out)))
	}
	var errs []error
	for _, t := range nftTablesToDelete(string(out), c.opts.NftTables) {
		if out, err := exec.CommandContext(ctx, nft, "delete", "table", t[0], t[1]).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("nft delete table %s %s: %w: %s", t[0], t[1], err, strings.TrimSpace(string(out))))
			continue
		}
		c.rep.add("deleted nft table", "%s %s", t[0], t[1])
	}
	return errors.Join(errs...)
}
