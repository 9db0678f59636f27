"""Unit tests of the client's pure parts (run by setup.sh's caller: `python -m unittest`)."""

import unittest
from decimal import Decimal

from court_fees import acceptance_fee, payment_order_fee
from legal_department import PLAYBOOK, ROAD, idempotency_key, step_date


class CourtFees(unittest.TestCase):
    def test_the_national_schedule_band_by_band_r_l7(self):
        self.assertEqual(acceptance_fee(Decimal("0")), Decimal("50.00"))
        self.assertEqual(acceptance_fee(Decimal("8000.00")), Decimal("50.00"))
        self.assertEqual(acceptance_fee(Decimal("10000")), Decimal("50.00"))
        # 50 + 90,000 × 2.5 %
        self.assertEqual(acceptance_fee(Decimal("100000")), Decimal("2300.00"))
        # + 100,000 × 2 %
        self.assertEqual(acceptance_fee(Decimal("200000")), Decimal("4300.00"))
        self.assertEqual(acceptance_fee(Decimal("1000000")), Decimal("13800.00"))
        # 20 M: 13,800 + 9,000 + 24,000 + 35,000 + 60,000
        self.assertEqual(acceptance_fee(Decimal("20000000")), Decimal("141800.00"))
        self.assertEqual(acceptance_fee(Decimal("30000000")), Decimal("191800.00"))
        self.assertEqual(acceptance_fee(Decimal("12345.67")), Decimal("108.64"))

    def test_a_payment_order_costs_a_third(self):
        self.assertEqual(payment_order_fee(Decimal("100000")), Decimal("766.67"))

    def test_a_negative_claim_is_refused(self):
        with self.assertRaises(ValueError):
            acceptance_fee(Decimal("-1"))


class Playbook(unittest.TestCase):
    def test_the_road_moves_forward_r_l2(self):
        positions = [ROAD.index(step.to_status) for step in PLAYBOOK]
        self.assertEqual(positions, sorted(positions))
        days = [step.days_after_opening for step in PLAYBOOK]
        self.assertEqual(days, sorted(days))

    def test_dates_follow_the_opening_and_never_precede_the_last_step(self):
        self.assertEqual(step_date("2026-04-15", 1), "2026-04-16")
        self.assertEqual(step_date("2026-04-15", 30), "2026-05-15")
        self.assertEqual(step_date("2026-04-15", 1, "2026-04-20"), "2026-04-20")

    def test_keys_name_the_case_and_the_step(self):
        self.assertEqual(idempotency_key("c1", "litigation"), "legal-department:c1:litigation")
        self.assertEqual(len({idempotency_key("c1", s.key) for s in PLAYBOOK}), len(PLAYBOOK))


if __name__ == "__main__":
    unittest.main()
