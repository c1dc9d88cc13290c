package mongostore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Devices live on the parent document as a map by device ID ("devices.<id>"),
// so registering one is a $set and removing one an $unset, both by _id. The
// device_owners collection says, per device ID, which parent holds it and
// when it was last seen: it moves a token between parents and lets the
// daily sweep find stale ones without reading every parent.
const colDeviceOwners = "device_owners"

var _ content.Devices = (*Store)(nil)

type deviceDoc struct {
	Platform string    `bson:"platform"`
	Token    string    `bson:"token"`
	LastSeen time.Time `bson:"lastSeen"`
	Created  time.Time `bson:"created"`
}

type prefDoc struct {
	Channel  string `bson:"channel,omitempty"`
	Language string `bson:"language,omitempty"`
}

// deviceOwnerDoc names the one account holding a device: a parent
// (parentId) or a member of staff (staffId), never both.
type deviceOwnerDoc struct {
	ID       string    `bson:"_id"` // device ID
	ParentID string    `bson:"parentId,omitempty"`
	StaffID  string    `bson:"staffId,omitempty"`
	LastSeen time.Time `bson:"lastSeen"`
}

func toDeviceDocs(ds []content.Device) map[string]deviceDoc {
	if len(ds) == 0 {
		return nil
	}
	out := make(map[string]deviceDoc, len(ds))
	for _, d := range ds {
		out[d.ID] = deviceDoc{Platform: string(d.Platform), Token: d.Token, LastSeen: d.LastSeen, Created: d.Created}
	}
	return out
}

// devicesOf lists devices most recently seen first.
func devicesOf(m map[string]deviceDoc) []content.Device {
	if len(m) == 0 {
		return nil
	}
	out := make([]content.Device, 0, len(m))
	for id, d := range m {
		out = append(out, content.Device{ID: id, Platform: content.Platform(d.Platform), Token: d.Token,
			LastSeen: d.LastSeen, Created: d.Created})
	}
	slices.SortFunc(out, func(a, b content.Device) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func toPrefDocs(m map[string]content.ChannelPreference) map[string]prefDoc {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]prefDoc, len(m))
	for k, v := range m {
		out[k] = prefDoc{Channel: v.Channel, Language: v.Language}
	}
	return out
}

func prefsOf(m map[string]prefDoc) map[string]content.ChannelPreference {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]content.ChannelPreference, len(m))
	for k, v := range m {
		out[k] = content.ChannelPreference{Channel: v.Channel, Language: v.Language}
	}
	return out
}

func devicePath(id string) string { return "devices." + id }

// PutDevice claims the device in the owner index first (one upsert that
// returns the previous owner), drops it from that owner, then writes it on
// the parent. A crash in between leaves at worst a token on the previous
// owner too, which the next registration or FCM's UNREGISTERED removes.
func (s *Store) PutDevice(ctx context.Context, parentID string, d content.Device) error {
	if d.ID == "" || d.Token == "" {
		return fmt.Errorf("put device: id and token are required")
	}
	cctx, cancel := s.ctx(ctx)
	defer cancel()
	var before deviceOwnerDoc
	err := s.c(colDeviceOwners).FindOneAndUpdate(cctx, bson.D{{Key: "_id", Value: d.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "parentId", Value: parentID}, {Key: "lastSeen", Value: d.LastSeen}}},
			{Key: "$unset", Value: bson.D{{Key: "staffId", Value: ""}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)).Decode(&before)
	if err != nil && content.ErrorCode(mapErr(err, "device")) != content.CodeNotFound {
		return mapErr(err, "device")
	}
	if before.ParentID != "" && before.ParentID != parentID {
		if err := s.unsetDevice(ctx, before.ParentID, d.ID); err != nil && content.ErrorCode(err) != content.CodeNotFound {
			return err
		}
	}
	if before.StaffID != "" {
		if err := s.unsetStaffDevice(ctx, before.StaffID, d.ID); err != nil && content.ErrorCode(err) != content.CodeNotFound {
			return err
		}
	}
	p := devicePath(d.ID)
	if err := s.updateByID(ctx, colParents, parentID, bson.D{
		{Key: "$set", Value: bson.D{{Key: p + ".platform", Value: string(d.Platform)}, {Key: p + ".token", Value: d.Token},
			{Key: p + ".lastSeen", Value: d.LastSeen}}},
		{Key: "$min", Value: bson.D{{Key: p + ".created", Value: d.Created}}},
	}, "parent"); err != nil {
		return err
	}
	return s.capDevices(ctx, parentID, d.ID)
}

// capDevices keeps a parent's newest content.MaxDevicesPerParent devices,
// dropping the least recently seen (never keep, the one just registered).
// It reads after its own write, so of two registrations racing past the
// cap the later reader still trims to it.
func (s *Store) capDevices(ctx context.Context, parentID, keep string) error {
	p, err := getByID[parentDevicesDoc](ctx, s, colParents, parentID, "parent")
	if err != nil {
		return err
	}
	all := devicesOf(p.Devices) // most recently seen first
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
		if err := s.unsetDevice(ctx, parentID, d.ID); err != nil && content.ErrorCode(err) != content.CodeNotFound {
			return err
		}
		if err := s.dropOwner(ctx, d.ID, parentID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) unsetDevice(ctx context.Context, parentID, deviceID string) error {
	return s.updateByID(ctx, colParents, parentID,
		bson.D{{Key: "$unset", Value: bson.D{{Key: devicePath(deviceID), Value: ""}}}}, "parent")
}

func (s *Store) RemoveDevice(ctx context.Context, parentID, deviceID string) error {
	p, err := getByID[parentDevicesDoc](ctx, s, colParents, parentID, "parent")
	if err != nil {
		return err
	}
	if _, ok := p.Devices[deviceID]; !ok {
		return content.Errorf(content.CodeNotFound, "no such device")
	}
	if err := s.unsetDevice(ctx, parentID, deviceID); err != nil {
		return err
	}
	return s.dropOwner(ctx, deviceID, parentID)
}

// dropOwner deletes the owner record if it still names parentID (the token
// may have moved on meanwhile).
func (s *Store) dropOwner(ctx context.Context, deviceID, parentID string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colDeviceOwners).DeleteOne(ctx, bson.D{{Key: "_id", Value: deviceID}, {Key: "parentId", Value: parentID}})
	return mapErr(err, "device")
}

// RemoveDeviceToken drops a token FCM reported as no longer registered.
func (s *Store) RemoveDeviceToken(ctx context.Context, parentID, deviceID string) error {
	if err := s.unsetDevice(ctx, parentID, deviceID); err != nil && content.ErrorCode(err) != content.CodeNotFound {
		return err
	}
	return s.dropOwner(ctx, deviceID, parentID)
}

// DropStaleDevices reads the owner index (one small document per device),
// not the parents: a daily sweep.
func (s *Store) DropStaleDevices(ctx context.Context, cutoff time.Time) (int, error) {
	stale, err := findAll[deviceOwnerDoc](ctx, s, colDeviceOwners, bson.D{{Key: "lastSeen", Value: bson.D{{Key: "$lt", Value: cutoff}}}}, "devices")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range stale {
		if o.StaffID != "" {
			dropped, err := s.dropStaleStaffDevice(ctx, o, cutoff)
			if err != nil {
				return n, err
			}
			if dropped {
				n++
			}
			continue
		}
		// Re-check on the parent: a refresh since the owner record was read
		// moved lastSeen on, and then the device stays.
		p, err := getByID[parentDevicesDoc](ctx, s, colParents, o.ParentID, "parent")
		if err != nil && content.ErrorCode(err) != content.CodeNotFound {
			return n, err
		}
		if p != nil {
			if d, ok := p.Devices[o.ID]; ok && !d.LastSeen.Before(cutoff) {
				continue
			}
			if err := s.unsetDevice(ctx, o.ParentID, o.ID); err != nil && content.ErrorCode(err) != content.CodeNotFound {
				return n, err
			}
		}
		if err := s.dropOwner(ctx, o.ID, o.ParentID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Store) SetPreferences(ctx context.Context, parentID string, prefs map[string]content.ChannelPreference, digest bool) error {
	set, unset := bson.D{}, bson.D{}
	if d := toPrefDocs(prefs); d != nil {
		set = append(set, bson.E{Key: "prefs", Value: d})
	} else {
		unset = append(unset, bson.E{Key: "prefs", Value: ""})
	}
	if digest {
		set = append(set, bson.E{Key: "digest", Value: true})
	} else {
		// Pushes already held still go in their digest (DigestHeld stays).
		unset = append(unset, bson.E{Key: "digest", Value: ""})
	}
	update := bson.D{}
	if len(set) > 0 {
		update = append(update, bson.E{Key: "$set", Value: set})
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	// A category's language may change: senders holding a snapshot of
	// the parent read the record again.
	if err := s.markParentChange(ctx, parentID, nil); err != nil {
		return err
	}
	return s.updateByID(ctx, colParents, parentID, update, "parent")
}

var _ content.DigestHolds = (*Store)(nil)

// HoldForDigest adds to the parent's document, by _id: the day's list is
// a set, so a re-expanded broadcast is held once. The digest reads at most
// DigestHeldMax of them; a day's list is cleared when its digest is out.
func (s *Store) HoldForDigest(ctx context.Context, parentID, day, broadcastID string) error {
	field := "digestHeld." + day
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colParents).UpdateOne(ctx, bson.D{{Key: "_id", Value: parentID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: field, Value: broadcastID}}}})
	return mapErr(err, "parent")
}

func (s *Store) ClearDigest(ctx context.Context, parentID, day string) error {
	err := s.updateByID(ctx, colParents, parentID,
		bson.D{{Key: "$unset", Value: bson.D{{Key: "digestHeld." + day, Value: ""}}}}, "parent")
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	}
	return err
}

// parentDevicesDoc is the projection-free read of a parent's devices.
type parentDevicesDoc struct {
	ID      string               `bson:"_id"`
	State   content.ParentState  `bson:"state"`
	Devices map[string]deviceDoc `bson:"devices"`
}

// DeviceTokens is what the push sender needs: the tokens of a parent who
// may still be messaged, most recently seen first.
func (s *Store) DeviceTokens(ctx context.Context, parentID string) ([]string, error) {
	p, err := getByID[parentDevicesDoc](ctx, s, colParents, parentID, "parent")
	if content.ErrorCode(err) == content.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if p.State != content.ParentActive && p.State != content.ParentWarned {
		return nil, nil
	}
	var out []string
	for _, d := range devicesOf(p.Devices) {
		out = append(out, d.Token)
	}
	return out, nil
}
