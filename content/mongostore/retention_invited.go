package mongostore

import (
	"context"
	"slices"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ content.InvitedRetention = (*Store)(nil)

// EachInvitedClock streams the parents still invited, each with the latest
// send of their invitations: one invitation per parent and school
// (content.InvitationID), whose IssuedAt every invite and reminder send
// renews, read by _id for each school the parent has a link at. The filter
// on state is a scan on the embedded store, once a day.
func (s *Store) EachInvitedClock(ctx context.Context, fn func(content.InvitedClock) error) error {
	sctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	proj := bson.D{{Key: "state", Value: 1}, {Key: "createdAt", Value: 1}, {Key: "inviteNoticeAt", Value: 1},
		{Key: "inviteNoticeFor", Value: 1}, {Key: "children.schoolId", Value: 1}, {Key: "children.state", Value: 1}}
	cur, err := s.r(colParents).Find(sctx, bson.D{{Key: "state", Value: content.ParentInvited}},
		options.Find().SetProjection(proj).SetBatchSize(parentStreamBatch))
	if err != nil {
		return mapErr(err, "parents")
	}
	// Collected first, so the invitation lookups do not run beside an
	// open cursor: invited parents are few (those who never joined).
	type invited struct {
		clock   content.InvitedClock
		schools []string // every school with a link, live or removed
	}
	var all []invited
	for cur.Next(sctx) {
		var d struct {
			ID              string              `bson:"_id"`
			State           content.ParentState `bson:"state"`
			CreatedAt       time.Time           `bson:"createdAt"`
			InviteNoticeAt  time.Time           `bson:"inviteNoticeAt"`
			InviteNoticeFor time.Time           `bson:"inviteNoticeFor"`
			Children        []struct {
				SchoolID string            `bson:"schoolId"`
				State    content.LinkState `bson:"state"`
			} `bson:"children"`
		}
		if err := cur.Decode(&d); err != nil {
			_ = cur.Close(context.Background())
			return mapErr(err, "parents")
		}
		in := invited{clock: content.InvitedClock{ID: d.ID, State: d.State, LastInviteAt: d.CreatedAt,
			NoticeAt: d.InviteNoticeAt, NoticeFor: d.InviteNoticeFor}}
		for _, l := range d.Children {
			if l.SchoolID == "" {
				continue
			}
			if !slices.Contains(in.schools, l.SchoolID) {
				in.schools = append(in.schools, l.SchoolID)
			}
			if l.State == content.LinkLinked && !slices.Contains(in.clock.SchoolIDs, l.SchoolID) {
				in.clock.SchoolIDs = append(in.clock.SchoolIDs, l.SchoolID)
			}
		}
		all = append(all, in)
	}
	err = cur.Err()
	_ = cur.Close(context.Background())
	if err != nil {
		return mapErr(err, "parents")
	}
	for _, in := range all {
		for _, school := range in.schools {
			inv, err := getByID[invitationDoc](ctx, s, colInvitations, content.InvitationID(school, in.clock.ID), "invitation")
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if inv.IssuedAt.After(in.clock.LastInviteAt) {
				in.clock.LastInviteAt = inv.IssuedAt
			}
		}
		if err := fn(in.clock); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) NoteInviteNotice(ctx context.Context, id string, at, lastInvite time.Time) error {
	return s.updateByID(ctx, colParents, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "inviteNoticeAt", Value: at.UTC()}, {Key: "inviteNoticeFor", Value: lastInvite.UTC()}}}}, "parent")
}

func (s *Store) CancelInviteNotice(ctx context.Context, id string) error {
	return s.updateByID(ctx, colParents, id, bson.D{{Key: "$unset", Value: bson.D{
		{Key: "inviteNoticeAt", Value: ""}, {Key: "inviteNoticeFor", Value: ""}}}}, "parent")
}
