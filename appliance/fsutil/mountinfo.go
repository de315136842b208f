package fsutil

import (
	"strconv"
	"strings"
)

// ParseMountPoints returns the mount point (field 5) of each
// /proc/self/mountinfo line, with the kernel's octal escapes (\040 for a
// space) decoded.
func ParseMountPoints(mountinfo string) []string {
	var points []string
	for line := range strings.SplitSeq(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		points = append(points, UnescapeOctal(fields[4]))
	}
	return points
}

// UnescapeOctal decodes the kernel's \NNN escapes in /proc path fields.
func UnescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
