package notify

import (
	"strings"
	"testing"
)

func TestEstimateSMSCost(t *testing.T) {
	tests := []struct {
		name    string
		bodies  []string
		price   SegmentPrice
		want    CostEstimate
		wantErr bool
	}{
		{"nothing", nil, 4, CostEstimate{}, false},
		{"one single-segment message", []string{"hi"}, 4, CostEstimate{Messages: 1, Segments: 1, Cost: 4}, false},
		{"mixed batch", []string{
			strings.Repeat("a", 160), // 1
			strings.Repeat("a", 161), // 2
			"Dzień dobry",            // 1, UCS-2
			strings.Repeat("ł", 71),  // 2, UCS-2
		}, 4, CostEstimate{Messages: 4, Segments: 6, UCS2Messages: 2, Cost: 24}, false},
		{"free", []string{"hi", "there"}, 0, CostEstimate{Messages: 2, Segments: 2}, false},
		{"negative price", []string{"hi"}, -1, CostEstimate{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EstimateSMSCost(tt.bodies, tt.price)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
