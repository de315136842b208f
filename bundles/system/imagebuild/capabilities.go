package imagebuild

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// fileCapabilityXattr is the PAX record that carries the
// security.capability extended attribute in a layer tar; containerd sets it
// on the unpacked file.
const fileCapabilityXattr = "SCHILY.xattr.security.capability"

// capabilityNumbers are the Linux capability numbers (linux/capability.h)
// that images may need on a binary. Only what a system image plausibly
// needs is listed; anything else is refused rather than guessed.
func capabilityNumbers() map[string]uint {
	return map[string]uint{
		"CAP_CHOWN":            0,
		"CAP_DAC_OVERRIDE":     1,
		"CAP_FOWNER":           3,
		"CAP_KILL":             5,
		"CAP_SETGID":           6,
		"CAP_SETUID":           7,
		"CAP_NET_BIND_SERVICE": 10,
		"CAP_NET_BROADCAST":    11,
		"CAP_NET_ADMIN":        12,
		"CAP_NET_RAW":          13,
		"CAP_SYS_CHROOT":       18,
		"CAP_SYS_PTRACE":       19,
		"CAP_SYS_ADMIN":        21,
		"CAP_SYS_RESOURCE":     24,
	}
}

// encodeFileCapabilities returns the value of the security.capability
// attribute that grants names as permitted and effective file capabilities,
// or nil when names is empty. The layout is struct vfs_cap_data, revision 2:
// magic_etc, then permitted/inheritable pairs for the low and high 32 bits,
// all little-endian.
func encodeFileCapabilities(names []string) ([]byte, error) {
	if len(names) == 0 {
		return nil, nil
	}
	const (
		vfsCapRevision2     = 0x02000000
		vfsCapFlagEffective = 0x000001
	)
	numbers := capabilityNumbers()
	var permitted [2]uint32
	for _, capName := range names {
		number, ok := numbers[strings.ToUpper(capName)]
		if !ok {
			return nil, fmt.Errorf("unknown or unsupported capability %q", capName)
		}
		permitted[number/32] |= 1 << (number % 32)
	}
	value := make([]byte, 20)
	binary.LittleEndian.PutUint32(value[0:], vfsCapRevision2|vfsCapFlagEffective)
	binary.LittleEndian.PutUint32(value[4:], permitted[0])
	binary.LittleEndian.PutUint32(value[8:], 0) // inheritable, low
	binary.LittleEndian.PutUint32(value[12:], permitted[1])
	binary.LittleEndian.PutUint32(value[16:], 0) // inheritable, high
	return value, nil
}
