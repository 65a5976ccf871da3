package taskservice_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/taskservice/taskservice/clients/go/taskservice"
)

// The repository's VERSION is the release of every package in it;
// scripts/version.mjs writes it into version.go.
func TestVersionIsTheRepositorysVersion(t *testing.T) {
	data, err := os.ReadFile("../../../VERSION")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("not inside a TaskService checkout (no ../../../VERSION)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(data)); taskservice.Version != want {
		t.Errorf("Version = %q, VERSION = %q (node scripts/version.mjs set %s writes it)", taskservice.Version, want, want)
	}
}
