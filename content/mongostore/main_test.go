package mongostore_test

import (
	"os"
	"testing"

	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestMain starts one document store (embedded FerretDB, or MONGODB_URI)
// for the package's tests; each test takes a fresh database from it.
func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }
