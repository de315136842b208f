package identity

import (
	"strings"
	"testing"
)

func TestHashVerifyRoundTripAndTamper(t *testing.T) {
	p := HashParams{MemoryKiB: 64, Time: 1, Threads: 1}
	h, err := hashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id", h)
	}
	if ok, err := verifyPassword("correct horse battery", h); !ok || err != nil {
		t.Fatalf("verify own hash: %v %v", ok, err)
	}
	if ok, _ := verifyPassword("correct horse batterY", h); ok {
		t.Fatal("wrong password verified")
	}
	other, _ := hashPassword("correct horse battery", p)
	if other == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{
		"", "$bcrypt$x", strings.Replace(h, "m=64", "m=99999999", 1), strings.Replace(h, "v=19", "v=16", 1),
		strings.Replace(h, "t=1", "t=0", 1), h[:len(h)-50] + "!!!",
	} {
		if _, err := verifyPassword("correct horse battery", bad); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                  false,
		"alice-password":         true,
		"ALICE12345":             false, // the user name itself
		strings.Repeat("x", 257): false,
		"          ":             false,
		"长密码也可以用的中文口令很安全": true,
	} {
		if got := CheckPasswordPolicy(pw, "alice12345") == ""; got != ok {
			t.Errorf("policy(%q) = %v, want %v", pw, got, ok)
		}
	}
}

func TestGeneratePasswordUsesAlphabet(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		pw, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 20 || strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("generated %q", pw)
		}
		if seen[pw] {
			t.Fatalf("password %q generated twice", pw)
		}
		seen[pw] = true
	}
}
