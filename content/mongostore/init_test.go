package mongostore_test

import (
	"context"
	"testing"

	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestInitTwice: a restart runs Init on a database that already has every
// collection and index. (FerretDB 1.24 dropped the connection when one
// createIndexes named several existing indexes.)
func TestInitTwice(t *testing.T) {
	t.Parallel()
	db := mongotest.NewDatabase(t) // Init ran once here
	for i := 0; i < 2; i++ {
		if err := mongostore.New(db, 0).Init(context.Background()); err != nil {
			t.Fatalf("Init again (%d): %v", i+1, err)
		}
	}
}
