package notify

import (
	"errors"
	"fmt"
)

// SegmentPrice is what the SMS provider charges for one segment, in minor
// currency units (pence, cents). Integers keep budgets exact: a school's
// monthly budget is compared with sums of these, never with floats.
type SegmentPrice int64

// Cost is the price of sending the given number of segments.
func (p SegmentPrice) Cost(segments int) int64 {
	return int64(segments) * int64(p)
}

// CostEstimate totals a batch of SMS bodies, e.g. for a bulk-invite dry run
// that shows a school what the send will cost before it happens.
type CostEstimate struct {
	Messages     int   // bodies counted, empty ones included
	Segments     int   // segments billed in total
	UCS2Messages int   // messages that fell back to UCS-2 (worth rewording)
	Cost         int64 // Segments × price, in minor units
}

// ErrNegativePrice reports a misconfigured segment price.
var ErrNegativePrice = errors.New("negative SMS segment price")

// EstimateSMSCost counts the segments of every body and prices them.
func EstimateSMSCost(bodies []string, price SegmentPrice) (CostEstimate, error) {
	if price < 0 {
		return CostEstimate{}, fmt.Errorf("estimate SMS cost: %w (%d)", ErrNegativePrice, price)
	}
	var e CostEstimate
	for _, b := range bodies {
		c := CountSegments(b)
		e.Messages++
		e.Segments += c.Segments
		if c.Encoding == EncodingUCS2 {
			e.UCS2Messages++
		}
	}
	e.Cost = price.Cost(e.Segments)
	return e, nil
}
