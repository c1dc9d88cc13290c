package mongostore

import (
	"context"
	"strings"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// eraseFeedCommentsOfParent removes the excerpts of the parent's comments
// from their children's feeds as they were kept before responses became
// per parent (eraseFeedResponsesOfParent removes the per-parent ones). A
// feed item's shared progress kept the excerpt of
// the latest submission's comment with that submission's id, which ends
// in the submitting parent's id (content.SubmissionID), so the parent's
// excerpts are found without reading the submissions. The children are
// the parent's links, read before the links are removed; a child's feed
// goes whole when the child is purged.
func eraseFeedCommentsOfParent(ctx context.Context, s *Store, parentID string) (int64, error) {
	p, err := getByID[parentDoc](ctx, s, colParents, parentID, "parent")
	if content.IsCode(err, content.CodeNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	suffix := "." + parentID
	var n int64
	for _, l := range p.Children {
		cur, err := s.c(colFeed).Find(ctx, bson.D{{Key: "c", Value: l.ChildID}, {Key: "p", Value: bson.D{{Key: "$exists", Value: true}}}},
			options.Find().SetProjection(bson.D{{Key: "p", Value: 1}}))
		if err != nil {
			return n, mapErr(err, "feed")
		}
		var buckets []struct {
			ID       string                     `bson:"_id"`
			Progress map[string]feedProgressDoc `bson:"p"`
		}
		if err := cur.All(ctx, &buckets); err != nil {
			return n, mapErr(err, "feed")
		}
		for _, b := range buckets {
			unset := bson.D{}
			for slot, pr := range b.Progress {
				if pr.Comment != "" && strings.HasSuffix(pr.SubmitID, suffix) {
					unset = append(unset, bson.E{Key: "p." + slot + ".comment", Value: ""})
				}
			}
			if len(unset) == 0 {
				continue
			}
			if err := s.updateByID(ctx, colFeed, b.ID, bson.D{{Key: "$unset", Value: unset}}, "feed"); err != nil &&
				!content.IsCode(err, content.CodeNotFound) {
				return n, err
			}
			n += int64(len(unset))
		}
	}
	if err := s.dropFeedPagesOf(ctx, parentID); err != nil {
		return n, err
	}
	return n, nil
}
