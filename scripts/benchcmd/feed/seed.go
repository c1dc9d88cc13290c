package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/activities"
	"github.com/hometime-edu/hometime/content/mongostore"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// benchPassword signs every seeded parent in. Benchmark data only.
const benchPassword = "hometime-bench-1"

const (
	benchTrustID  = "trs_bench"
	benchSchoolID = "sch_bench"
	seedWriters   = 4
)

// family is one seeded parent and their child, as the load sees them.
type family struct {
	parentID string
	childID  string
	email    string
}

// school is the shape of the seeded school.
type school struct {
	families    int
	classes     int
	assignments int // over the year, spread evenly over the classes
}

// seed writes the school: classes, families (one child each, linked, with
// an email sign-in), the year's assignments (released) and every child's
// feed. Families and assignments go through the store's own methods;
// the feed — 100 items a child for 3,000 assignments over 30 classes — is
// written in bulk, bucket documents at a time, exactly as AddFeedItem
// leaves them.
func seed(ctx context.Context, s *mongostore.Store, sh school, progress func(string, ...any)) ([]family, int, error) {
	now := time.Now().UTC()
	yearStart := now.AddDate(-1, 0, 0)
	// Every activity, videos too (their addresses are never opened here).
	lib, err := activities.Load(activities.Options{MediaBaseURL: "https://media.hometime.test/starter"})
	if err != nil {
		return nil, 0, err
	}
	acts := lib.All()
	pw, err := api.NewPasswords(api.DefaultArgon2, 4)
	if err != nil {
		return nil, 0, err
	}
	hash, err := pw.Hash(ctx, benchPassword)
	if err != nil {
		return nil, 0, err
	}
	if err := s.CreateTrust(ctx, &content.Trust{ID: benchTrustID, Name: "Bench Learning Trust", CreatedAt: now}); err != nil {
		return nil, 0, err
	}
	sc := api.NewSchoolDefaults(benchTrustID, now)
	sc.ID, sc.Name = benchSchoolID, "Hometime Bench Primary"
	if err := s.CreateSchool(ctx, sc); err != nil {
		return nil, 0, err
	}
	classes := make([]*content.Class, sh.classes)
	for i := range classes {
		classes[i] = &content.Class{ID: fmt.Sprintf("cls_bench_%02d", i), SchoolID: benchSchoolID,
			Name: fmt.Sprintf("Class %02d", i), YearGroup: content.YearGroups[i%len(content.YearGroups)],
			TeacherIDs: []string{fmt.Sprintf("stf_bench_%02d", i)}, CreatedAt: now}
		if err := s.CreateClass(ctx, classes[i]); err != nil {
			return nil, 0, err
		}
	}

	// Families, four writers at a time.
	fams := make([]family, sh.families)
	if err := parallel(ctx, sh.families, func(i int) error {
		f, err := seedFamily(ctx, s, i, classes[i%len(classes)], hash, now)
		fams[i] = f
		return err
	}); err != nil {
		return nil, 0, err
	}
	progress("seeded %d families in %d classes", len(fams), len(classes))

	// The year's assignments, one activity each, released on a steady
	// rhythm through the year. Classes get a few more or fewer than the
	// average, so their children's newest buckets are filled to different
	// depths and a first page sometimes spans two buckets, as it would.
	counts := make([]int, sh.classes)
	total := 0
	for c := range counts {
		counts[c] = sh.assignments / sh.classes
		if c < sh.classes-sh.classes%5 {
			counts[c] += c%5 - 2
		}
		total += counts[c]
	}
	for c := 0; total < sh.assignments; c = (c + 1) % sh.classes {
		counts[c]++
		total++
	}
	type slot struct{ c, j int }
	var slots []slot
	for c, n := range counts {
		for j := range n {
			slots = append(slots, slot{c, j})
		}
	}
	asgID := func(c, j int) string { return fmt.Sprintf("asg_bench_%02d_%03d", c, j) }
	if err := parallel(ctx, len(slots), func(n int) error {
		c, j := slots[n].c, slots[n].j
		act := acts[(c*7+j)%len(acts)]
		step := 365 * 24 * time.Hour / time.Duration(counts[c])
		rel := yearStart.Add(time.Duration(j) * step).Truncate(time.Second)
		a := &content.Assignment{ID: asgID(c, j), SchoolID: benchSchoolID, ClassID: classes[c].ID,
			Activities: []content.AssignedActivity{{ID: act.ID, Title: act.Title, Kind: act.Kind, Subject: act.Subject, Minutes: act.Minutes}},
			ChildIDs:   []string{}, SetBy: classes[c].TeacherIDs[0], TeacherName: "Mrs Khan", ReleaseAt: rel,
			DueAt: rel.Add(7 * 24 * time.Hour), State: content.AssignmentReleased, ReleasedAt: rel,
			BroadcastID: content.ReleaseBroadcastID(asgID(c, j)), CreatedAt: rel, UpdatedAt: rel}
		return s.CreateAssignment(ctx, a)
	}); err != nil {
		return nil, 0, err
	}
	asg := make([][]*content.Assignment, sh.classes)
	for c, n := range counts {
		for j := range n {
			a, err := s.Assignment(ctx, asgID(c, j))
			if err != nil {
				return nil, 0, err
			}
			asg[c] = append(asg[c], a)
		}
	}
	progress("seeded %d assignments", len(slots))

	// Every child's feed, in bulk: heads and full buckets.
	coll := s.Database().Collection(mongostore.FeedCollection())
	var docs []any
	items := 0
	flush := func() error {
		if len(docs) == 0 {
			return nil
		}
		_, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		docs = docs[:0]
		return err
	}
	for i, f := range fams {
		list := asg[i%len(classes)]
		var bucket, all []*content.FeedItem
		for pos, a := range list {
			act := a.Activities[0]
			bucket = append(bucket, &content.FeedItem{ChildID: f.childID, Key: a.FeedKey(act.ID), Kind: content.FeedActivity,
				Position: int64(pos), At: a.ReleaseAt, AssignmentID: a.ID, ActivityID: act.ID, Title: act.Title,
				ActivityKind: act.Kind, Subject: act.Subject, Minutes: act.Minutes, DueAt: a.DueAt, SetBy: a.SetBy,
				TeacherName: a.TeacherName})
			all = append(all, bucket[len(bucket)-1])
			if len(bucket) == content.FeedBucketSize || pos == len(list)-1 {
				docs = append(docs, mongostore.FeedBucketDocument(f.childID, content.FeedBucket(int64(pos)), bucket))
				bucket = nil
			}
			items++
		}
		docs = append(docs, mongostore.FeedHeadDocument(f.childID, int64(len(list)), all))
		if len(docs) >= 200 {
			if err := flush(); err != nil {
				return nil, 0, fmt.Errorf("feed: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, 0, fmt.Errorf("feed: %w", err)
	}
	// Some progress on the newest items, through the store's own writes,
	// so pages carry states, ratings and replies.
	for i, f := range fams {
		n := int64(len(asg[i%len(classes)]))
		if _, err := s.MarkFeedItemSeen(ctx, content.FeedItemID(f.childID, n-1), now); err != nil {
			return nil, 0, err
		}
		if i%3 == 0 {
			id := content.FeedItemID(f.childID, n-2)
			if err := s.MarkFeedItemDone(ctx, id, f.parentID, "", 4, "We did it together after tea.", now); err != nil {
				return nil, 0, err
			}
			if err := s.RecordFeedReply(ctx, id, f.parentID, fmt.Sprintf("rep_bench_%05d", i), "Lovely work, well done both of you!", now); err != nil {
				return nil, 0, err
			}
		}
	}
	return fams, items, nil
}

// parallel runs fn for 0..n-1 on seedWriters goroutines; the first error
// stops the rest.
func parallel(ctx context.Context, n int, fn func(int) error) error {
	jobs := make(chan int)
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range seedWriters {
		wg.Go(func() {
			for i := range jobs {
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

func seedFamily(ctx context.Context, s *mongostore.Store, i int, cl *content.Class, hash string, now time.Time) (family, error) {
	p := &content.Parent{
		ID:        fmt.Sprintf("par_bench_%05d", i),
		FirstName: "Parent", LastName: fmt.Sprintf("Bench%05d", i),
		Phone:    fmt.Sprintf("+4477009%05d", i),
		Email:    fmt.Sprintf("parent%05d@bench.hometime.test", i),
		Language: "en", State: content.ParentActive, PasswordHash: hash, Sessions: []string{},
		Consents:     []content.Consent{{Kind: "privacy_notice", Version: "2026-09", Accepted: true, At: now}},
		LastActiveAt: now, CreatedAt: now,
	}
	child := &content.Child{
		ID: fmt.Sprintf("chd_bench_%05d", i), SchoolID: benchSchoolID, FirstName: "Child",
		LastName: p.LastName, YearGroup: cl.YearGroup, ClassIDs: []string{cl.ID},
		Parents:    []content.ParentLink{{ParentID: p.ID, Relationship: "Parent", State: content.LinkLinked, LinkedAt: now}},
		SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now,
	}
	if err := s.CreateChild(ctx, child); err != nil {
		return family{}, fmt.Errorf("child %s: %w", child.ID, err)
	}
	p.Children = []content.ChildLink{{ChildID: child.ID, SchoolID: benchSchoolID, FirstName: child.FirstName,
		YearGroup: child.YearGroup, State: content.LinkLinked, LinkedAt: now}}
	if err := s.CreateParent(ctx, p); err != nil {
		return family{}, fmt.Errorf("parent %s: %w", p.ID, err)
	}
	if err := s.PutLogin(ctx, &content.Login{Key: "parent:email:" + p.Email, Kind: content.KindParent, AccountID: p.ID}); err != nil {
		return family{}, fmt.Errorf("login of %s: %w", p.ID, err)
	}
	return family{parentID: p.ID, childID: child.ID, email: p.Email}, nil
}
