package mongostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestStaffDevicesSettingsAndErasure: staff devices and settings round-trip
// on the staff document; a staff push is claimed once; erasing the staff
// member leaves no device owner naming them, and erasing the school no
// push record.
func TestStaffDevicesSettingsAndErasure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	if err := s.CreateStaff(ctx, &content.Staff{ID: "stf_1", Email: "t@example.test", FirstName: "T", LastName: "L",
		Schools: []content.SchoolRoles{{SchoolID: "sch_1", Roles: []content.Role{content.RoleTeacher}}}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	d := content.Device{ID: content.DeviceID([]byte("k"), "tok"), Platform: content.PlatformIOS, Token: "tok", LastSeen: t0, Created: t0}
	if err := s.PutStaffDevice(ctx, "stf_1", d); err != nil {
		t.Fatal(err)
	}
	hours := &content.WorkingHours{StartMinute: 480, EndMinute: 990, Days: []time.Weekday{time.Monday, time.Friday}}
	if err := s.SetStaffSettings(ctx, "stf_1", hours, true); err != nil {
		t.Fatal(err)
	}
	st, err := s.Staff(ctx, "stf_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Devices) != 1 || st.Devices[0].Token != "tok" || st.WorkingHours == nil || st.WorkingHours.EndMinute != 990 ||
		len(st.WorkingHours.Days) != 2 || !st.DigestOff || st.Email != "t@example.test" {
		t.Fatalf("staff after settings: %+v", st)
	}
	if err := s.SetStaffSettings(ctx, "stf_1", nil, false); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Staff(ctx, "stf_1"); st.WorkingHours != nil || st.DigestOff || len(st.Devices) != 1 {
		t.Fatalf("reset to defaults: %+v", st)
	}
	if err := s.RemoveStaffDevice(ctx, "stf_1", "dev_other"); !content.IsCode(err, content.CodeNotFound) {
		t.Errorf("removing a device not theirs: %v", err)
	}

	p := content.StaffPush{ID: content.StaffPushID("submission", "sub_1", "stf_1"), SchoolID: "sch_1", At: t0}
	for i, want := range []bool{true, false} {
		if won, err := s.ClaimStaffPush(ctx, p); err != nil || won != want {
			t.Fatalf("claim %d: %v %v, want %v", i, won, err, want)
		}
	}

	erase := func(kind, id string) {
		for _, e := range s.Erasers(kind) {
			if _, err := e.Erase(ctx, content.ErasureSubject{Kind: kind, ID: id}); err != nil {
				t.Fatalf("%s: %v", e.Area(), err)
			}
		}
	}
	erase(content.SubjectStaff, "stf_1")
	if n, err := s.Database().Collection("device_owners").CountDocuments(ctx, bson.D{{Key: "staffId", Value: "stf_1"}}); err != nil || n != 0 {
		t.Errorf("%d device owners name the erased staff member (%v)", n, err)
	}
	erase(content.SubjectSchool, "sch_1")
	if n, err := s.Database().Collection("staff_pushes").CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Errorf("%d staff push records outlive the school (%v)", n, err)
	}
}
