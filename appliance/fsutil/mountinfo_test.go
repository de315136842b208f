package fsutil

import (
	"slices"
	"testing"
)

func TestParseMountPoints(t *testing.T) {
	mountinfo := `22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
35 22 0:31 / /var/lib/a\040b rw - tmpfs tmpfs rw
36 22 0:32 / /c\134d rw - tmpfs tmpfs rw
short line

`
	want := []string{"/", "/var/lib/a b", `/c\d`}
	if got := ParseMountPoints(mountinfo); !slices.Equal(got, want) {
		t.Fatalf("ParseMountPoints = %q, want %q", got, want)
	}
	tests := map[string]string{`plain`: "plain", `a\040b`: "a b", `bad\09x`: `bad\09x`, `end\04`: `end\04`}
	for in, want := range tests {
		if got := UnescapeOctal(in); got != want {
			t.Errorf("UnescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}
