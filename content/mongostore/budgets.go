package mongostore

import (
	"context"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ content.Budgets = (*Store)(nil)

// AddSMSSpend is an upserting lone-_id findOneAndUpdate $inc: atomic on
// MongoDB and, behind the embedded store's write serializer, in dev too.
func (s *Store) AddSMSSpend(ctx context.Context, schoolID, month string, pence int64) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d struct {
		Pence int64 `bson:"pence"`
	}
	err := s.c(colSMSSpend).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: schoolID + "|" + month}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "pence", Value: pence}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "schoolId", Value: schoolID}, {Key: "month", Value: month}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return 0, mapErr(err, "sms spend")
	}
	return d.Pence, nil
}
