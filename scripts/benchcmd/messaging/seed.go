package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	benchSchoolID = "sch_bench"
	benchClassID  = "cls_bench"
)

// reach is how a seeded family can be contacted.
type reach int

const (
	bySMS   reach = iota // a UK mobile, no email
	byEmail              // an email address, no phone
	// mixed: family i is reached by SMS (i%3 == 0), email (1) or push (2:
	// one device, and an email the push wins over), and reads English,
	// Welsh or Polish by (i/3)%3, so every channel has every language.
	mixed
)

// mixedLanguages are the languages of mixed families, by (i/3)%3.
var mixedLanguages = [3]string{"en", "cy", "pl"}

// tokenOf is family i's push token (mixed families with a device).
func tokenOf(i int) string { return "tok_" + parentIDOf(i) }

// phoneOf is family i's mobile: +447400000000 upwards, valid UK mobiles
// (libphonenumber) for i below a million.
func phoneOf(i int) string { return fmt.Sprintf("+4474%08d", i) }

func emailOf(i int) string { return fmt.Sprintf("parent%06d@bench.hometime.test", i) }

func parentIDOf(i int) string { return fmt.Sprintf("par_bench_%06d", i) }

// seedSchool writes the one school every phase sends for: no quiet hours
// and a budget nothing here can exhaust.
func seedSchool(ctx context.Context, st *stack.Stack) error {
	return st.Store.CreateSchool(ctx, &content.School{ID: benchSchoolID, Name: "Hometime Bench Primary", Country: "GB",
		TimeZone: "Europe/London", Language: "en", QuietStart: "00:00", QuietEnd: "00:00",
		SMSBudgetPence: 1 << 50, CreatedAt: time.Now().UTC()})
}

// The store has no bulk insert for parents or children, and one InsertOne
// per document makes 100,000 families take minutes on the embedded store,
// so families are written with InsertMany through the store's own driver
// client, in the bson shapes of content/mongostore (docs_roster.go). The
// pipeline reads them back through the store, so a shape that drifted
// would fail the run rather than pass unnoticed.
type parentLinkDoc struct {
	ParentID string            `bson:"parentId"`
	State    content.LinkState `bson:"state"`
	LinkedAt time.Time         `bson:"linkedAt"`
}

type schoolLinkDoc struct {
	State content.LinkState `bson:"state"`
}

type childDoc struct {
	ID           string          `bson:"_id"`
	SchoolID     string          `bson:"schoolId"`
	FirstName    string          `bson:"firstName"`
	LastName     string          `bson:"lastName"`
	YearGroup    string          `bson:"yearGroup"`
	ClassIDs     []string        `bson:"classIds"`
	PupilPremium bool            `bson:"pupilPremium"`
	Parents      []parentLinkDoc `bson:"parents"`
	SchoolLink   schoolLinkDoc   `bson:"schoolLink"`
	CreatedAt    time.Time       `bson:"createdAt"`
}

type childLinkDoc struct {
	ChildID   string            `bson:"childId"`
	SchoolID  string            `bson:"schoolId"`
	FirstName string            `bson:"firstName"`
	YearGroup string            `bson:"yearGroup"`
	State     content.LinkState `bson:"state"`
	LinkedAt  time.Time         `bson:"linkedAt"`
}

type consentDoc struct{}

type parentDoc struct {
	ID        string               `bson:"_id"`
	FirstName string               `bson:"firstName"`
	LastName  string               `bson:"lastName"`
	Phone     string               `bson:"phone,omitempty"`
	Email     string               `bson:"email,omitempty"`
	Language  string               `bson:"language"`
	State     content.ParentState  `bson:"state"`
	Sessions  []string             `bson:"sessions"`
	Children  []childLinkDoc       `bson:"children"`
	Consents  []consentDoc         `bson:"consents"`
	Devices   map[string]deviceDoc `bson:"devices,omitempty"` // by device id
	CreatedAt time.Time            `bson:"createdAt"`
}

type deviceDoc struct {
	Platform string    `bson:"platform"`
	Token    string    `bson:"token"`
	LastSeen time.Time `bson:"lastSeen"`
	Created  time.Time `bson:"created"`
}

// seedBatch is how many documents one InsertMany carries.
const seedBatch = 1000

// seedFamilies writes n active parents, each linked to one child on the
// school's roll, reachable the given way.
func seedFamilies(ctx context.Context, st *stack.Stack, n int, how reach) error {
	db := st.MongoClient().Database(st.Config.Database)
	now := time.Now().UTC()
	for lo := 0; lo < n; lo += seedBatch {
		hi := min(lo+seedBatch, n)
		parents := make([]any, 0, hi-lo)
		children := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			pid, cid := parentIDOf(i), fmt.Sprintf("chd_bench_%06d", i)
			p := parentDoc{ID: pid, FirstName: "Parent", LastName: fmt.Sprintf("Bench%06d", i), Language: "en",
				State: content.ParentActive, Sessions: []string{}, Consents: []consentDoc{}, CreatedAt: now,
				Children: []childLinkDoc{{ChildID: cid, SchoolID: benchSchoolID, FirstName: "Child", YearGroup: "Y1",
					State: content.LinkLinked, LinkedAt: now}}}
			switch how {
			case bySMS:
				p.Phone = phoneOf(i)
			case byEmail:
				p.Email = emailOf(i)
			case mixed:
				p.Language = mixedLanguages[(i/3)%3]
				switch i % 3 {
				case 0:
					p.Phone = phoneOf(i)
				case 1:
					p.Email = emailOf(i)
				default:
					p.Email = emailOf(i)
					p.Devices = map[string]deviceDoc{fmt.Sprintf("dev_%06d", i): {Platform: "android", Token: tokenOf(i),
						LastSeen: now, Created: now}}
				}
			}
			parents = append(parents, p)
			children = append(children, childDoc{ID: cid, SchoolID: benchSchoolID, FirstName: "Child",
				LastName: p.LastName, YearGroup: "Y1", ClassIDs: []string{benchClassID},
				Parents:    []parentLinkDoc{{ParentID: pid, State: content.LinkLinked, LinkedAt: now}},
				SchoolLink: schoolLinkDoc{State: content.LinkLinked}, CreatedAt: now})
		}
		if err := insertMany(ctx, db.Collection("parents"), parents); err != nil {
			return err
		}
		if err := insertMany(ctx, db.Collection("children"), children); err != nil {
			return err
		}
	}
	// One read back through the store proves the shape.
	p, err := st.Store.Parent(ctx, parentIDOf(n-1))
	if err != nil {
		return fmt.Errorf("read back seeded parent: %w", err)
	}
	if len(p.Children) != 1 || p.Children[0].State != content.LinkLinked || (how != mixed && (p.Phone == "") == (how == bySMS)) {
		return fmt.Errorf("seeded parent reads back as %+v", p)
	}
	return nil
}

func insertMany(ctx context.Context, c *mongo.Collection, docs []any) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true)); err != nil {
		return fmt.Errorf("insert %d into %s: %w", len(docs), c.Name(), err)
	}
	return nil
}

// newBroadcast writes an award broadcast to every parent of the school.
func newBroadcast(ctx context.Context, st *stack.Stack, id string, state content.BroadcastState) (*content.Broadcast, error) {
	b := &content.Broadcast{ID: id, SchoolID: benchSchoolID, Template: "award", Category: "awards",
		Params:   map[string]string{"child_first_name": "Cai", "teacher_name": "Mrs Khan"},
		Audience: content.Audience{AllParents: true}, State: state, CreatedAt: time.Now().UTC()}
	if err := st.Store.CreateBroadcast(ctx, b); err != nil {
		return nil, fmt.Errorf("create broadcast: %w", err)
	}
	return b, nil
}
