package api

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
)

// schoolSMSBudget shows a school's admins this month's SMS budget: what is
// spent, what is left, and how many messages the budget has stopped. The
// month is the school's own calendar month, as the worker counts it.
func (s *server) schoolSMSBudget() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		// Schools are saved with a checked IANA zone; one that does not
		// load is a data fault, not the caller's (500, logged).
		if sc.TimeZone == "" || sc.TimeZone == "Local" {
			return fmt.Errorf("school %s has no time zone", sc.ID)
		}
		loc, err := time.LoadLocation(sc.TimeZone)
		if err != nil {
			return fmt.Errorf("school %s time zone: %w", sc.ID, err)
		}
		month := s.Clock.Now().In(loc).Format("2006-01")
		m, err := s.Budgets.SMSBudgetMonth(c.UserContext(), sc.ID, month)
		if err != nil {
			return err
		}
		return c.JSON(toSMSBudgetDTO(sc, m))
	}
}
