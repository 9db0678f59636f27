"""Unit tests of the client's pure parts (run by setup.sh's caller: `python -m unittest`)."""

import re
import unittest
from decimal import Decimal
from pathlib import Path

from court_fees import acceptance_fee, payment_order_fee
from legal_department import PLAYBOOK, ROAD, idempotency_key, step_date
from receivables.events.v1 import envelope_pb2
from receivables.events.v1 import legal_pb2 as events_pb2
from receivables.types.v1 import legal_case_pb2, money_pb2, owed_pb2

ASYNCAPI = Path(__file__).resolve().parents[2] / "proto" / "asyncapi" / "legal-department.yaml"


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


class AsyncApiDocument(unittest.TestCase):
    """The AsyncAPI document shows every message of the topic with every field, and every
    value of the enums, as the protos define them: a field added to a proto and not to the
    document fails here."""

    def setUp(self):
        self.text = ASYNCAPI.read_text(encoding="utf-8")

    def schema_block(self, full_name, key="x-protobuf-message"):
        start = self.text.find(f"{key}: {full_name}\n")
        self.assertGreaterEqual(start, 0, f"{full_name} is not in {ASYNCAPI.name}")
        following = re.search(r"\n    [A-Za-z]+:\n", self.text[start:])
        return self.text[start : start + following.start()] if following else self.text[start:]

    def test_every_message_and_field_is_documented_r_l6(self):
        events = [getattr(events_pb2, name) for name in events_pb2.DESCRIPTOR.message_types_by_name]
        for message in [envelope_pb2.Envelope, money_pb2.Money, owed_pb2.Owed, *events]:
            block = self.schema_block(message.DESCRIPTOR.full_name)
            for field in message.DESCRIPTOR.fields:
                self.assertIn(f"\n        {field.name}:\n", block, f"{message.DESCRIPTOR.full_name}.{field.name}")
        for event in events:
            # A message of the channel, in its envelope.
            self.assertIn(f"\n      name: {event.DESCRIPTOR.name}\n", self.text)
            self.assertIn(f"const: {event.DESCRIPTOR.full_name}\n", self.text)

    def test_every_enum_value_is_documented(self):
        for enum in (
            legal_case_pb2.CaseStatus,
            legal_case_pb2.CaseOutcome,
            legal_case_pb2.ClaimChange,
            owed_pb2.CostKind,
        ):
            block = self.schema_block(enum.DESCRIPTOR.full_name, key="x-protobuf-enum")
            self.assertEqual(re.findall(r"\n        - ([A-Z_]+)", block), list(enum.keys()))


if __name__ == "__main__":
    unittest.main()
