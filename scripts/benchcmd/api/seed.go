package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
)

// benchPassword signs every seeded parent in. Benchmark data only.
const benchPassword = "hometime-bench-1"

const (
	benchTrustID  = "trs_bench"
	benchSchoolID = "sch_bench"
)

// family is one seeded parent as the load sees it.
type family struct {
	parentID string
	email    string
}

// seedWriters insert families concurrently: the store serialises writes
// anyway, but the round trips overlap.
const seedWriters = 4

// seedFamilies writes one school with two classes and n active parents,
// each with two linked children (one per class) and an email sign-in, the
// way demo.go shapes its families. Every parent shares one password hash:
// hashing is deliberately slow and the hash is not what is measured.
func seedFamilies(ctx context.Context, s *mongostore.Store, n int) ([]family, error) {
	now := time.Now().UTC()
	pw, err := api.NewPasswords(api.DefaultArgon2, 4)
	if err != nil {
		return nil, err
	}
	hash, err := pw.Hash(ctx, benchPassword)
	if err != nil {
		return nil, err
	}
	if err := s.CreateTrust(ctx, &content.Trust{ID: benchTrustID, Name: "Bench Learning Trust", CreatedAt: now}); err != nil {
		return nil, err
	}
	school := api.NewSchoolDefaults(benchTrustID, now)
	school.ID, school.Name = benchSchoolID, "Hometime Bench Primary"
	if err := s.CreateSchool(ctx, school); err != nil {
		return nil, err
	}
	classes := []*content.Class{
		{ID: "cls_bench_y1", SchoolID: benchSchoolID, Name: "Robins", YearGroup: "Y1", CreatedAt: now},
		{ID: "cls_bench_y3", SchoolID: benchSchoolID, Name: "Owls", YearGroup: "Y3", CreatedAt: now},
	}
	for _, c := range classes {
		if err := s.CreateClass(ctx, c); err != nil {
			return nil, err
		}
	}

	fams := make([]family, n)
	jobs := make(chan int)
	errs := make(chan error, seedWriters)
	var wg sync.WaitGroup
	for range seedWriters {
		wg.Go(func() {
			for i := range jobs {
				f, err := seedFamily(ctx, s, i, classes, hash, now)
				if err != nil {
					errs <- err
					return
				}
				fams[i] = f
			}
		})
	}
	var seedErr error
feed:
	for i := range n {
		select {
		case jobs <- i:
		case seedErr = <-errs:
			break feed
		case <-ctx.Done():
			seedErr = ctx.Err()
			break feed
		}
	}
	close(jobs)
	// A writer that failed stopped taking jobs; drain the rest so none block.
	go func() {
		wg.Wait()
		close(errs)
	}()
	for err := range errs {
		if seedErr == nil {
			seedErr = err
		}
	}
	if seedErr != nil {
		return nil, seedErr
	}
	return fams, nil
}

func seedFamily(ctx context.Context, s *mongostore.Store, i int, classes []*content.Class, hash string, now time.Time) (family, error) {
	p := &content.Parent{
		ID:        fmt.Sprintf("par_bench_%05d", i),
		FirstName: "Parent", LastName: fmt.Sprintf("Bench%05d", i),
		Phone:    fmt.Sprintf("+4477009%05d", i),
		Email:    fmt.Sprintf("parent%05d@bench.hometime.test", i),
		Language: "en", State: content.ParentActive, PasswordHash: hash, Sessions: []string{},
		Consents:     []content.Consent{{Kind: "privacy_notice", Version: "2026-09", Accepted: true, At: now}},
		LastActiveAt: now, CreatedAt: now,
	}
	for k, cl := range classes {
		child := &content.Child{
			ID: fmt.Sprintf("chd_bench_%05d_%d", i, k), SchoolID: benchSchoolID, FirstName: fmt.Sprintf("Child%d", k),
			LastName: p.LastName, YearGroup: cl.YearGroup, ClassIDs: []string{cl.ID},
			UPN:        fmt.Sprintf("B%011d%d", i, k),
			Parents:    []content.ParentLink{{ParentID: p.ID, Relationship: "Parent", State: content.LinkLinked, LinkedAt: now}},
			SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now,
		}
		if err := s.CreateChild(ctx, child); err != nil {
			return family{}, fmt.Errorf("child %s: %w", child.ID, err)
		}
		p.Children = append(p.Children, content.ChildLink{ChildID: child.ID, SchoolID: benchSchoolID,
			FirstName: child.FirstName, YearGroup: child.YearGroup, State: content.LinkLinked, LinkedAt: now})
	}
	if err := s.CreateParent(ctx, p); err != nil {
		return family{}, fmt.Errorf("parent %s: %w", p.ID, err)
	}
	if err := s.PutLogin(ctx, &content.Login{Key: "parent:email:" + p.Email, Kind: content.KindParent, AccountID: p.ID}); err != nil {
		return family{}, fmt.Errorf("login of %s: %w", p.ID, err)
	}
	return family{parentID: p.ID, email: p.Email}, nil
}
