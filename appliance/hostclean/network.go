package hostclean

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// removeNetworkNamespaces deletes the pod network namespaces the CRI left in
// NetnsDir: first the host ends of veths whose peer lives in one (deleting
// one end deletes the pair), then the bind mount that keeps the namespace
// alive, then its file.
func (c *cleaner) removeNetworkNamespaces() error {
	if c.opts.NetnsDir == "" {
		return nil
	}
	entries, err := os.ReadDir(c.opts.NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing network namespaces: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), c.opts.NetnsPrefix) {
			continue
		}
		path := filepath.Join(c.opts.NetnsDir, e.Name())
		if err := c.deleteVethsInto(path); err != nil {
			errs = append(errs, err)
		}
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting netns %s: %w", path, err))
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing netns %s: %w", path, err))
			continue
		}
		c.rep.add("deleted netns", "%s", path)
	}
	return errors.Join(errs...)
}

// deleteVethsInto deletes host veths whose peer is in the namespace bound at
// path. The kernel names that namespace to us by an id (RTM_GETNSID), which
// is what each veth reports as its peer's IFLA_LINK_NETNSID.
func (c *cleaner) deleteVethsInto(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening netns %s: %w", path, err)
	}
	defer f.Close()
	nsid, err := netlink.GetNetNsIdByFd(int(f.Fd()))
	if err != nil || nsid < 0 {
		// Not a namespace (an unmounted leftover file) or no veth ever
		// pointed into it: nothing to delete.
		return nil
	}
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	var errs []error
	for _, l := range links {
		if l.Type() != "veth" || l.Attrs().NetNsID != nsid {
			continue
		}
		if err := netlink.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("deleting veth %s: %w", l.Attrs().Name, err))
			continue
		}
		c.rep.add("deleted interface", "%s (veth into %s)", l.Attrs().Name, filepath.Base(path))
	}
	return errors.Join(errs...)
}

// removeInterfaces deletes the veths attached to the CNI bridges, then the
// bridges, then interfaces named by InterfacePrefixes (flannel.1 ...).
func (c *cleaner) removeInterfaces() error {
	if len(c.opts.Bridges) == 0 && len(c.opts.InterfacePrefixes) == 0 {
		return nil
	}
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	bridgeIndex := map[int]string{}
	for _, l := range links {
		if slices.Contains(c.opts.Bridges, l.Attrs().Name) {
			bridgeIndex[l.Attrs().Index] = l.Attrs().Name
		}
	}
	var ports, others []netlink.Link
	for _, l := range links {
		a := l.Attrs()
		switch {
		case l.Type() == "veth" && bridgeIndex[a.MasterIndex] != "":
			ports = append(ports, l)
		case bridgeIndex[a.Index] != "":
			others = append(others, l)
		default:
			for _, prefix := range c.opts.InterfacePrefixes {
				if strings.HasPrefix(a.Name, prefix) {
					others = append(others, l)
					break
				}
			}
		}
	}
	var errs []error
	for _, l := range append(ports, others...) {
		err := netlink.LinkDel(l)
		if errors.Is(err, unix.ENODEV) {
			continue // a veth whose peer we deleted first
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("deleting interface %s: %w", l.Attrs().Name, err))
			continue
		}
		what := l.Type()
		if master := bridgeIndex[l.Attrs().MasterIndex]; master != "" {
			what += " on " + master
		}
		c.rep.add("deleted interface", "%s (%s)", l.Attrs().Name, what)
	}
	return errors.Join(errs...)
}
