package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const benchSchoolID = "sch_bench"

// The parent shape of content/mongostore (docs_roster.go), written with
// InsertMany: one InsertOne per parent would take minutes on the embedded
// store. The sweep reads them back through the store, so a shape that
// drifted fails the run's checks rather than passing unnoticed.
type childLinkDoc struct {
	ChildID   string            `bson:"childId"`
	SchoolID  string            `bson:"schoolId"`
	FirstName string            `bson:"firstName"`
	YearGroup string            `bson:"yearGroup"`
	State     content.LinkState `bson:"state"`
	LinkedAt  time.Time         `bson:"linkedAt"`
}

type parentDoc struct {
	ID           string              `bson:"_id"`
	FirstName    string              `bson:"firstName"`
	LastName     string              `bson:"lastName"`
	Phone        string              `bson:"phone,omitempty"`
	Language     string              `bson:"language"`
	State        content.ParentState `bson:"state"`
	Sessions     []string            `bson:"sessions"`
	Children     []childLinkDoc      `bson:"children"`
	Consents     []any               `bson:"consents"`
	LastActiveAt time.Time           `bson:"lastActiveAt,omitempty"`
	WarnedAt     time.Time           `bson:"warnedAt,omitempty"`
	ClosedAt     time.Time           `bson:"closedAt,omitempty"`
	CreatedAt    time.Time           `bson:"createdAt"`
}

// mix is the activity of the seeded parents, per 1,000: most used the app
// in the last ten months; the rest sit at each step of the clocks.
type kind int

const (
	recent        kind = iota // active, seen within 10 months: nothing to do
	dueNotice                 // active, idle 11–14 months: notice now
	warnedFresh               // warned 10 days ago: nothing yet
	dueClose                  // warned 40 days ago, idle 13 months: close
	signedInSince             // warned, then signed in: cancel the notice
	closedFresh               // closed 30 days ago: nothing yet
	dueErase                  // closed 100 days ago: erasure starts
	invited                   // never joined: not on the clock
)

var mix = []struct {
	k       kind
	perMill int
}{{recent, 800}, {dueNotice, 100}, {warnedFresh, 30}, {dueClose, 10}, {signedInSince, 10}, {closedFresh, 20}, {dueErase, 10}, {invited, 20}}

func kindOf(i int) kind {
	r := (i * 7919) % 1000 // spread the kinds through the id range
	for _, m := range mix {
		if r < m.perMill {
			return m.k
		}
		r -= m.perMill
	}
	return recent
}

func parentIDOf(i int) string { return fmt.Sprintf("par_bench_%06d", i) }

// seedParents writes n parents as of now and returns the ids due a notice.
func seedParents(ctx context.Context, db *mongo.Database, n int, now time.Time) (map[string]bool, map[kind]int, error) {
	due := map[string]bool{}
	counts := map[kind]int{}
	day := 24 * time.Hour
	for lo := 0; lo < n; lo += 1000 {
		hi := min(lo+1000, n)
		docs := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			k := kindOf(i)
			counts[k]++
			p := parentDoc{ID: parentIDOf(i), FirstName: "Parent", LastName: fmt.Sprintf("Bench%06d", i),
				Phone: fmt.Sprintf("+4474%08d", i), Language: []string{"en", "cy", "pl", "ur"}[i%4],
				State: content.ParentActive, Sessions: []string{}, Consents: []any{}, CreatedAt: now.AddDate(-3, 0, 0),
				Children: []childLinkDoc{{ChildID: fmt.Sprintf("chd_bench_%06d", i), SchoolID: benchSchoolID, FirstName: "Child",
					YearGroup: "Y1", State: content.LinkLinked, LinkedAt: now.AddDate(-3, 0, 0)}}}
			switch k {
			case recent:
				p.LastActiveAt = now.Add(-time.Duration(i%300) * day)
			case dueNotice:
				p.LastActiveAt = now.AddDate(0, -11, -(i % 90))
				due[p.ID] = true
			case warnedFresh:
				p.State, p.LastActiveAt, p.WarnedAt = content.ParentWarned, now.AddDate(0, -11, -10), now.Add(-10*day)
			case dueClose:
				p.State, p.LastActiveAt, p.WarnedAt = content.ParentWarned, now.AddDate(0, -13, 0), now.Add(-40*day)
			case signedInSince:
				p.State, p.WarnedAt, p.LastActiveAt = content.ParentWarned, now.Add(-20*day), now.Add(-2*day)
			case closedFresh:
				p.State, p.LastActiveAt, p.ClosedAt = content.ParentClosed, now.AddDate(-1, -1, 0), now.Add(-30*day)
			case dueErase:
				p.State, p.LastActiveAt, p.ClosedAt = content.ParentClosed, now.AddDate(-1, -4, 0), now.Add(-100*day)
			case invited:
				p.State = content.ParentInvited
			}
			docs = append(docs, p)
		}
		ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_, err := db.Collection("parents").InsertMany(ictx, docs, options.InsertMany().SetOrdered(true))
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("insert parents: %w", err)
		}
	}
	return due, counts, nil
}
