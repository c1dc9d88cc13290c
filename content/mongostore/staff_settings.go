package mongostore

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Staff devices live on the staff document exactly as parents' do on
// theirs ("devices.<id>"), and share the device_owners index, so a phone
// passed from a parent to a teacher (or back) has one owner, and the daily
// stale sweep covers both.

var _ content.StaffSettings = (*Store)(nil)

// staffDevicesDoc is the part of a staff document devices need.
type staffDevicesDoc struct {
	ID      string               `bson:"_id"`
	Devices map[string]deviceDoc `bson:"devices"`
}

func (s *Store) PutStaffDevice(ctx context.Context, staffID string, d content.Device) error {
	if d.ID == "" || d.Token == "" {
		return fmt.Errorf("put staff device: id and token are required")
	}
	// The staff member must exist before the owner index names them.
	if _, err := getByID[staffDevicesDoc](ctx, s, colStaff, staffID, "staff member"); err != nil {
		return err
	}
	cctx, cancel := s.ctx(ctx)
	defer cancel()
	var before deviceOwnerDoc
	err := s.c(colDeviceOwners).FindOneAndUpdate(cctx, bson.D{{Key: "_id", Value: d.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "staffId", Value: staffID}, {Key: "lastSeen", Value: d.LastSeen}}},
			{Key: "$unset", Value: bson.D{{Key: "parentId", Value: ""}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)).Decode(&before)
	if err != nil && content.ErrorCode(mapErr(err, "device")) != content.CodeNotFound {
		return mapErr(err, "device")
	}
	if before.ParentID != "" {
		if err := s.unsetDevice(ctx, before.ParentID, d.ID); err != nil && content.ErrorCode(err) != content.CodeNotFound {
			return err
		}
	}
	if before.StaffID != "" && before.StaffID != staffID {
		if err := s.unsetStaffDevice(ctx, before.StaffID, d.ID); err != nil && content.ErrorCode(err) != content.CodeNotFound {
			return err
		}
	}
	p := devicePath(d.ID)
	if err := s.updateByID(ctx, colStaff, staffID, bson.D{
		{Key: "$set", Value: bson.D{{Key: p + ".platform", Value: string(d.Platform)}, {Key: p + ".token", Value: d.Token},
			{Key: p + ".lastSeen", Value: d.LastSeen}}},
		{Key: "$min", Value: bson.D{{Key: p + ".created", Value: d.Created}}},
	}, "staff member"); err != nil {
		return err
	}
	return s.capStaffDevices(ctx, staffID, d.ID)
}

// capStaffDevices keeps a staff member's newest MaxDevicesPerParent
// devices, as capDevices does for parents.
func (s *Store) capStaffDevices(ctx context.Context, staffID, keep string) error {
	st, err := getByID[staffDevicesDoc](ctx, s, colStaff, staffID, "staff member")
	if err != nil {
		return err
	}
	all := devicesOf(st.Devices)
	if len(all) <= content.MaxDevicesPerParent {
		return nil
	}
	kept := 0
	for _, d := range all {
		if d.ID == keep || kept < content.MaxDevicesPerParent-1 {
			if d.ID != keep {
				kept++
			}
			continue
		}
		if err := s.RemoveStaffDeviceToken(ctx, staffID, d.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) unsetStaffDevice(ctx context.Context, staffID, deviceID string) error {
	return s.updateByID(ctx, colStaff, staffID,
		bson.D{{Key: "$unset", Value: bson.D{{Key: devicePath(deviceID), Value: ""}}}}, "staff member")
}

func (s *Store) dropStaffOwner(ctx context.Context, deviceID, staffID string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colDeviceOwners).DeleteOne(ctx, bson.D{{Key: "_id", Value: deviceID}, {Key: "staffId", Value: staffID}})
	return mapErr(err, "device")
}

func (s *Store) RemoveStaffDevice(ctx context.Context, staffID, deviceID string) error {
	st, err := getByID[staffDevicesDoc](ctx, s, colStaff, staffID, "staff member")
	if err != nil {
		return err
	}
	if _, ok := st.Devices[deviceID]; !ok {
		return content.Errorf(content.CodeNotFound, "no such device")
	}
	return s.RemoveStaffDeviceToken(ctx, staffID, deviceID)
}

// RemoveStaffDeviceToken drops a staff device whatever the reason (FCM
// said UNREGISTERED, the cap); a device already gone is no error.
func (s *Store) RemoveStaffDeviceToken(ctx context.Context, staffID, deviceID string) error {
	if err := s.unsetStaffDevice(ctx, staffID, deviceID); err != nil && content.ErrorCode(err) != content.CodeNotFound {
		return err
	}
	return s.dropStaffOwner(ctx, deviceID, staffID)
}

// dropStaleStaffDevice is DropStaleDevices for a device a staff member
// holds: re-checked on the staff document, which a refresh moves on.
func (s *Store) dropStaleStaffDevice(ctx context.Context, o *deviceOwnerDoc, cutoff time.Time) (bool, error) {
	st, err := getByID[staffDevicesDoc](ctx, s, colStaff, o.StaffID, "staff member")
	if err != nil && content.ErrorCode(err) != content.CodeNotFound {
		return false, err
	}
	if st != nil {
		if d, ok := st.Devices[o.ID]; ok && !d.LastSeen.Before(cutoff) {
			return false, nil
		}
	}
	if err := s.RemoveStaffDeviceToken(ctx, o.StaffID, o.ID); err != nil {
		return false, err
	}
	return true, nil
}

func (s *Store) SetStaffSettings(ctx context.Context, staffID string, hours *content.WorkingHours, digestOff bool) error {
	set := bson.D{{Key: "digestOff", Value: digestOff}}
	update := bson.D{}
	if hours != nil {
		set = append(set, bson.E{Key: "workingHours", Value: toWorkingHoursDoc(hours)})
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "workingHours", Value: ""}}})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	return s.updateByID(ctx, colStaff, staffID, update, "staff member")
}

// Staff pushes: one small document per event and staff member, by a
// hashed _id, so a notification task that runs again sends nothing twice.
const colStaffPushes = "staff_pushes"

type staffPushDoc struct {
	ID       string    `bson:"_id"`
	SchoolID string    `bson:"schoolId"`
	At       time.Time `bson:"at"`
}

// ClaimStaffPush records the push as sent; false if it already was.
func (s *Store) ClaimStaffPush(ctx context.Context, p content.StaffPush) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colStaffPushes).InsertOne(ctx, staffPushDoc{ID: p.ID, SchoolID: p.SchoolID, At: p.At.UTC()})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, mapErr(err, "staff push")
	}
	return true, nil
}

// ReleaseStaffPush forgets a claim whose push was not accepted, so a
// retry may send it.
func (s *Store) ReleaseStaffPush(ctx context.Context, id string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colStaffPushes).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return mapErr(err, "staff push")
}
