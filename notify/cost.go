package notify

// SegmentPrice is what the SMS provider charges for one segment, in minor
// currency units (pence, cents). Integers keep budgets exact: a school's
// monthly budget is compared with sums of these, never with floats.
type SegmentPrice int64

// Cost is the price of sending the given number of segments.
func (p SegmentPrice) Cost(segments int) int64 {
	return int64(segments) * int64(p)
}
