package misimport_test

import (
	"fmt"
	"strings"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// A dry run: parse the school's export, look its contacts up in the
// suppression list, plan against the current roster, show the numbers.
// Maja's second contact has no parental responsibility: she is left out.
func Example() {
	file := "UPN,Legal Surname,Legal Forename,Year,Reg Group,Contact 1 Name,Contact 1 Mobile,Contact 1 Email,Contact 1 Language," +
		"Contact 1 Parental Responsibility,Contact 2 Name,Contact 2 Mobile,Contact 2 Parental Responsibility\n" +
		mistest.UPNFor(1) + ",Jones,Ffion,Year 1,1A,Mrs Bethan Jones,07400 000001,bethan@example.org,Cymraeg,Y,,,\n" +
		mistest.UPNFor(2) + ",Jones,Rhys,Year 3,3B,Mrs Bethan Jones,07400 000001,bethan@example.org,Cymraeg,Y,,,\n" +
		mistest.UPNFor(3) + ",Nowak,Maja,Reception,RA,Anna Nowak,01632 960123,anna@example.org,Polski,Y,Ola Nowak,07400 000002,N\n"

	imp, err := misimport.Parse(strings.NewReader(file), misimport.Options{
		Region: "GB", DefaultLanguage: "en", Phones: mistest.UKPhones{}})
	if err != nil {
		fmt.Println(err) // a *content.Error: CodeInvalid or CodeTooLarge
		return
	}
	// The caller keys imp.Contacts() and asks content.Suppressions in one
	// batch; here Anna has unsubscribed from email.
	suppressed := func(channel, normalized string) bool {
		return channel == content.SuppressionEmail && normalized == "anna@example.org"
	}
	plan := misimport.NewPlan(imp, misimport.Roster{}, suppressed)

	s := plan.Summary
	fmt.Printf("pupils %d, parents %d, invites %d (sms %d, email %d), not invitable %d, contacts without PR %d\n",
		s.Pupils, len(imp.Parents), s.Invites, s.InvitesBySMS, s.InvitesByEmail, s.FullySuppressed, s.ContactsWithoutPR)
	for _, inv := range plan.Invites {
		fmt.Printf("invite in %s for %d children, sms %v email %v\n", inv.Language, len(inv.Children), inv.SMS, inv.Email)
	}
	for _, p := range append(imp.Problems, plan.Problems...) {
		fmt.Println(p)
	}
	// Output:
	// pupils 3, parents 2, invites 1 (sms 1, email 1), not invitable 1, contacts without PR 1
	// invite in cy for 2 children, sms true email true
	// row 4, Contact 1 Mobile: the number is a landline or cannot take texts; no texts to this contact (landline)
	// row 4, Contact 2 Parental Responsibility: the contact does not have parental responsibility; they stay a school contact: not linked to the pupil, not invited (no_parental_responsibility)
	// row 4, Contact 1 Email: this contact asked not to be messaged on this channel; it will not be used (suppressed)
}
