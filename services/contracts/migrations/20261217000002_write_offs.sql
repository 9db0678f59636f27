-- Write-offs of small differences (R-P12): requested by payments after a payment left a
-- receivable short by no more than the tolerance; the id is payments' (a repeated event
-- books nothing twice). Booked at once within the approval threshold ('policy'), otherwise
-- proposed until a person other than the requester decides.
CREATE TABLE write_offs (
    id             UUID PRIMARY KEY,
    payment_id     UUID NOT NULL,
    receivable_id  UUID NOT NULL REFERENCES receivables (id),
    customer_id    UUID NOT NULL REFERENCES customers (id),
    amount         NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    reason         TEXT NOT NULL,
    -- The business date of the payment that left the difference.
    booking_date   DATE NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'booked', 'rejected')),
    requested_by   TEXT NOT NULL,
    requested_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    decided_by     TEXT,
    decided_at     TIMESTAMPTZ,
    decision_note  TEXT NOT NULL DEFAULT '',
    -- What was booked by component: [["principal", "0.30"], ...].
    parts          JSONB NOT NULL DEFAULT '[]',
    CHECK ((status = 'proposed') = (decided_by IS NULL)),
    CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
CREATE INDEX write_offs_by_customer ON write_offs (customer_id, id);
CREATE INDEX write_offs_by_receivable ON write_offs (receivable_id);
