package misimport

import (
	"time"

	"github.com/hometime-edu/hometime/content"
)

// Apply exposes a commit's chunked roster writes to the package's tests.
func (r *Run) Apply(now time.Time, chunk int, put func(*content.ImportWrites) error) error {
	return r.apply(now, chunk, put)
}
