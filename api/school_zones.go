package api

import (
	"context"
	"sync"
	"time"
)

// schoolZones remembers each school's time zone for a short while: a feed
// page with due dates needs the zone to name the due day, and reading the
// school for it would be one more store lookup on every page. A school
// changes its zone rarely; a changed zone shows within zoneTTL. The zero
// value is ready to use.
type schoolZones struct {
	mu sync.Mutex
	m  map[string]zoneEntry
}

type zoneEntry struct {
	loc *time.Location
	at  time.Time
}

const (
	zoneTTL = time.Minute
	// zoneMax bounds the memory: past it the map starts afresh.
	zoneMax = 20000
)

// schoolZone is the school's time zone, from memory when read within
// zoneTTL, else from the store.
func (s *server) schoolZone(ctx context.Context, schoolID string) (*time.Location, error) {
	now := s.Clock.Now()
	z := &s.zones
	z.mu.Lock()
	e, ok := z.m[schoolID]
	z.mu.Unlock()
	if ok && now.Sub(e.at) < zoneTTL && !now.Before(e.at) {
		return e.loc, nil
	}
	sc, err := s.Roster.School(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	loc := schoolLocation(sc)
	z.mu.Lock()
	if z.m == nil || len(z.m) >= zoneMax {
		z.m = make(map[string]zoneEntry)
	}
	z.m[schoolID] = zoneEntry{loc: loc, at: now}
	z.mu.Unlock()
	return loc, nil
}
