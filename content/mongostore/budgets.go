package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ content.Budgets = (*Store)(nil)

// smsSpendDoc is one school's SMS month: spend, and the messages refused
// because of it. Every write is a lone-_id update of this one document.
type smsSpendDoc struct {
	ID            string    `bson:"_id"`
	SchoolID      string    `bson:"schoolId"`
	Month         string    `bson:"month"`
	Pence         int64     `bson:"pence"`
	Refused       int64     `bson:"refused,omitempty"`
	LastRefusedAt time.Time `bson:"lastRefusedAt,omitempty"`
}

func smsSpendID(schoolID, month string) string { return schoolID + "|" + month }

// AddSMSSpend is an upserting lone-_id findOneAndUpdate $inc: atomic on
// MongoDB and, behind the embedded store's write serializer, in dev too.
func (s *Store) AddSMSSpend(ctx context.Context, schoolID, month string, pence int64) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d struct {
		Pence int64 `bson:"pence"`
	}
	err := s.c(colSMSSpend).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: smsSpendID(schoolID, month)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "pence", Value: pence}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "schoolId", Value: schoolID}, {Key: "month", Value: month}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return 0, mapErr(err, "sms spend")
	}
	return d.Pence, nil
}

// RecordSMSRefused is one upserting update of the month's document: $inc
// the count, $max the time, so concurrent workers and late calls commute.
func (s *Store) RecordSMSRefused(ctx context.Context, schoolID, month string, n int, at time.Time) error {
	if n <= 0 {
		return nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colSMSSpend).UpdateOne(ctx, bson.D{{Key: "_id", Value: smsSpendID(schoolID, month)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "refused", Value: int64(n)}}},
			{Key: "$max", Value: bson.D{{Key: "lastRefusedAt", Value: at.UTC()}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "schoolId", Value: schoolID}, {Key: "month", Value: month}, {Key: "pence", Value: int64(0)}}}},
		options.UpdateOne().SetUpsert(true))
	return mapErr(err, "sms spend")
}

func (s *Store) SMSBudgetMonth(ctx context.Context, schoolID, month string) (content.BudgetMonth, error) {
	out := content.BudgetMonth{SchoolID: schoolID, Month: month}
	d, err := getByID[smsSpendDoc](ctx, s, colSMSSpend, smsSpendID(schoolID, month), "sms spend")
	if content.IsCode(err, content.CodeNotFound) {
		return out, nil
	} else if err != nil {
		return content.BudgetMonth{}, err
	}
	out.SpentPence, out.RefusedMessages, out.LastRefusedAt = d.Pence, d.Refused, d.LastRefusedAt
	return out, nil
}
