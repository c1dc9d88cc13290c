package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colAnnouncements holds staff-written announcements: their text (and
// staff-written versions), audience (IDs), schedule and state.
const colAnnouncements = "announcements"

var _ content.Announcements = (*Store)(nil)

type announcementVersionDoc struct {
	Language string `bson:"language"`
	Title    string `bson:"title"`
	Body     string `bson:"body"`
}

type announcementAudienceDoc struct {
	WholeSchool bool     `bson:"wholeSchool"`
	YearGroups  []string `bson:"yearGroups"`
	ClassIDs    []string `bson:"classIds"`
	ParentIDs   []string `bson:"parentIds"`
}

type announcementDoc struct {
	ID            string                   `bson:"_id"`
	SchoolID      string                   `bson:"schoolId"`
	CreatedBy     string                   `bson:"createdBy"`
	Title         string                   `bson:"title"`
	Body          string                   `bson:"body"`
	Language      string                   `bson:"language"`
	Versions      []announcementVersionDoc `bson:"versions"`
	Audience      announcementAudienceDoc  `bson:"audience"`
	SendAt        time.Time                `bson:"sendAt"`
	Urgent        bool                     `bson:"urgent"`
	Important     bool                     `bson:"important"`
	AttachmentIDs []string                 `bson:"attachmentIds"`
	State         string                   `bson:"state"`
	BroadcastID   string                   `bson:"broadcastId,omitempty"`
	Links         map[string]string        `bson:"links,omitempty"`
	CreatedAt     time.Time                `bson:"createdAt"`
	SentAt        time.Time                `bson:"sentAt,omitempty"`
	CancelledAt   time.Time                `bson:"cancelledAt,omitempty"`
}

func toAnnouncementDoc(a *content.Announcement) announcementDoc {
	d := announcementDoc{ID: a.ID, SchoolID: a.SchoolID, CreatedBy: a.CreatedBy, Title: a.Title, Body: a.Body,
		Language: a.Language, Versions: []announcementVersionDoc{},
		Audience: announcementAudienceDoc{WholeSchool: a.Audience.WholeSchool, YearGroups: nonNil(a.Audience.YearGroups),
			ClassIDs: nonNil(a.Audience.ClassIDs), ParentIDs: nonNil(a.Audience.ParentIDs)},
		SendAt: a.SendAt, Urgent: a.Urgent, Important: a.Important, AttachmentIDs: nonNil(a.AttachmentIDs),
		State: string(a.State), BroadcastID: a.BroadcastID, Links: a.Links, CreatedAt: a.CreatedAt,
		SentAt: a.SentAt, CancelledAt: a.CancelledAt}
	for _, v := range a.Versions {
		d.Versions = append(d.Versions, announcementVersionDoc(v))
	}
	return d
}

func (d *announcementDoc) toContent() *content.Announcement {
	a := &content.Announcement{ID: d.ID, SchoolID: d.SchoolID, CreatedBy: d.CreatedBy, Title: d.Title, Body: d.Body,
		Language: d.Language, Audience: content.AnnouncementAudience{WholeSchool: d.Audience.WholeSchool,
			YearGroups: d.Audience.YearGroups, ClassIDs: d.Audience.ClassIDs, ParentIDs: d.Audience.ParentIDs},
		SendAt: d.SendAt.UTC(), Urgent: d.Urgent, Important: d.Important, AttachmentIDs: d.AttachmentIDs,
		State: content.AnnouncementState(d.State), BroadcastID: d.BroadcastID, Links: d.Links,
		CreatedAt: d.CreatedAt.UTC(), SentAt: d.SentAt, CancelledAt: d.CancelledAt}
	for _, v := range d.Versions {
		a.Versions = append(a.Versions, content.AnnouncementVersion(v))
	}
	return a
}

func (s *Store) CreateAnnouncement(ctx context.Context, a *content.Announcement) error {
	return s.insert(ctx, colAnnouncements, toAnnouncementDoc(a), "announcement")
}

func (s *Store) Announcement(ctx context.Context, id string) (*content.Announcement, error) {
	d, err := getByID[announcementDoc](ctx, s, colAnnouncements, id, "announcement")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// AnnouncementsOfSchool keyset-pages on (createdAt, _id) descending, as the
// message log does; the embedded store scans, which one school's
// announcements allow.
func (s *Store) AnnouncementsOfSchool(ctx context.Context, schoolID, createdBy string, after content.AnnouncementCursor, limit int) ([]*content.Announcement, error) {
	if limit <= 0 {
		return []*content.Announcement{}, nil
	}
	filter := schoolLogFilter(schoolID, createdBy, after)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	cur, err := s.c(colAnnouncements).Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, mapErr(err, "announcements")
	}
	var docs []announcementDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "announcements")
	}
	out := make([]*content.Announcement, 0, len(docs))
	for i := range docs {
		out = append(out, docs[i].toContent())
	}
	return out, nil
}

func (s *Store) CancelAnnouncement(ctx context.Context, id string, at time.Time) (*content.Announcement, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colAnnouncements).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: string(content.AnnouncementScheduled)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: string(content.AnnouncementCancelled)},
			{Key: "cancelledAt", Value: at}}}})
	if err != nil {
		return nil, mapErr(err, "announcement")
	}
	a, err := s.Announcement(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.State != content.AnnouncementCancelled {
		return a, content.Errorf(content.CodeConflict, "the announcement is already %s and can no longer be cancelled", a.State)
	}
	return a, nil
}

func (s *Store) StartAnnouncement(ctx context.Context, id string, at time.Time) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(colAnnouncements).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: string(content.AnnouncementScheduled)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: string(content.AnnouncementSending)},
			{Key: "broadcastId", Value: content.AnnouncementBroadcastID(id)}}}})
	if err != nil {
		return false, mapErr(err, "announcement")
	}
	if res.MatchedCount == 1 {
		return true, nil
	}
	a, err := s.Announcement(ctx, id)
	if err != nil {
		return false, err
	}
	return a.State == content.AnnouncementSending, nil
}

func (s *Store) FinishAnnouncement(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colAnnouncements).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: string(content.AnnouncementSending)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: string(content.AnnouncementSent)}, {Key: "sentAt", Value: at}}}})
	return mapErr(err, "announcement")
}

// DueAnnouncements scans for unsent announcements due by now. The sweep
// runs once a minute; the embedded store scans the collection, which holds
// a school's hand-written announcements, not messages.
func (s *Store) DueAnnouncements(ctx context.Context, now time.Time, limit int) ([]*content.Announcement, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	cur, err := s.c(colAnnouncements).Find(ctx, bson.D{
		{Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{string(content.AnnouncementScheduled), string(content.AnnouncementSending)}}}},
		{Key: "sendAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "sendAt", Value: 1}}).SetLimit(int64(limit)).
			SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "schoolId", Value: 1}, {Key: "sendAt", Value: 1}, {Key: "state", Value: 1}}))
	if err != nil {
		return nil, mapErr(err, "announcements")
	}
	var docs []announcementDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "announcements")
	}
	out := make([]*content.Announcement, 0, len(docs))
	for i := range docs {
		out = append(out, docs[i].toContent())
	}
	return out, nil
}
