package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestReferenceDocumentsEveryKey keeps docs/configuration.md true.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(Config{})
	for i := 0; i < typ.NumField(); i++ {
		key := Key(typ.Field(i))
		if !strings.Contains(string(doc), "| `"+key+"` |") {
			t.Errorf("docs/configuration.md does not document key %q", key)
		}
		if typ.Field(i).Tag.Get("usage") == "" {
			t.Errorf("key %q has no usage text", key)
		}
	}
}
