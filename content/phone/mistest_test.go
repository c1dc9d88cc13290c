package phone_test

import (
	"bytes"
	"testing"

	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
	"github.com/hometime-edu/hometime/content/phone"
)

// TestPhonesAgreeWithTheGeneratorFake: libphonenumber finds the same
// mobiles in a generated file as UKPhones (the fake mistest's expected
// numbers assume), so invite counts measured with the fake hold for the
// real wiring. The two split non-mobiles differently: the real library
// knows more landline ranges than the fake, which calls them invalid.
func TestPhonesAgreeWithTheGeneratorFake(t *testing.T) {
	var b bytes.Buffer
	if _, err := mistest.Generate(&b, mistest.Config{Families: 2000, Layout: mistest.LayoutSIMS, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	fake, err := misimport.Parse(bytes.NewReader(b.Bytes()), misimport.Options{Region: "GB", Phones: mistest.UKPhones{}})
	if err != nil {
		t.Fatal(err)
	}
	real, err := misimport.Parse(bytes.NewReader(b.Bytes()), misimport.Options{Region: "GB", Phones: phone.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(fake.Parents) != len(real.Parents) {
		t.Fatalf("%d parents with the real library, %d with the fake", len(real.Parents), len(fake.Parents))
	}
	for code, n := range fake.ProblemCounts {
		if code == misimport.CodeLandline || code == misimport.CodeInvalidPhone {
			continue
		}
		if real.ProblemCounts[code] != n {
			t.Errorf("problem %s: %d with the real library, %d with the fake", code, real.ProblemCounts[code], n)
		}
	}
	fakeBad := fake.ProblemCounts[misimport.CodeLandline] + fake.ProblemCounts[misimport.CodeInvalidPhone]
	realBad := real.ProblemCounts[misimport.CodeLandline] + real.ProblemCounts[misimport.CodeInvalidPhone]
	if fakeBad != realBad {
		t.Errorf("%d numbers not textable with the real library, %d with the fake", realBad, fakeBad)
	}
	t.Logf("landline/invalid: real %d/%d, fake %d/%d", real.ProblemCounts[misimport.CodeLandline],
		real.ProblemCounts[misimport.CodeInvalidPhone], fake.ProblemCounts[misimport.CodeLandline], fake.ProblemCounts[misimport.CodeInvalidPhone])
	for i := range fake.Parents {
		if fake.Parents[i].Mobile != real.Parents[i].Mobile {
			t.Errorf("parent %d: mobile %q with the real library, %q with the fake", i, real.Parents[i].Mobile, fake.Parents[i].Mobile)
		}
	}
}
