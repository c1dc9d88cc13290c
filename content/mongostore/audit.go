package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
)

type auditDoc struct {
	ID        string              `bson:"_id"`
	At        time.Time           `bson:"at"`
	ActorKind content.AccountKind `bson:"actorKind,omitempty"`
	ActorID   string              `bson:"actorId,omitempty"`
	Action    string              `bson:"action"`
	SchoolID  string              `bson:"schoolId,omitempty"`
	Subject   string              `bson:"subject,omitempty"`
	IP        string              `bson:"ip,omitempty"`
	Reason    string              `bson:"reason,omitempty"`
}

func (s *Store) RecordAudit(ctx context.Context, e *content.AuditEvent) error {
	return s.insert(ctx, colAudit, auditDoc{ID: e.ID, At: e.At, ActorKind: e.ActorKind, ActorID: e.ActorID,
		Action: e.Action, SchoolID: e.SchoolID, Subject: e.Subject, IP: e.IP, Reason: e.Reason}, "audit event")
}
