-- Late fees, interest and collection costs are owed items (issue 12 item 3; R-C4, R-C12,
-- R-D12): per receivable, what accrued or was booked of each, and what of it is still open
-- after payments and waivers. For every component:
--   charged (amount | late_fee | interest | costs) = paid + waived + written off + open.
ALTER TABLE contracts ADD COLUMN interest_policy TEXT;

ALTER TABLE receivables
    -- Interest accrued by the daily cycle (R-C12); late_fee (R-C4) already holds the fee.
    ADD COLUMN interest       NUMERIC(20, 6) NOT NULL DEFAULT 0 CHECK (interest >= 0),
    -- Collection costs booked against the receivable (R-D12).
    ADD COLUMN costs          NUMERIC(20, 6) NOT NULL DEFAULT 0 CHECK (costs >= 0),
    ADD COLUMN late_fee_open  NUMERIC(20, 6) NOT NULL DEFAULT 0 CHECK (late_fee_open >= 0),
    ADD COLUMN interest_open  NUMERIC(20, 6) NOT NULL DEFAULT 0 CHECK (interest_open >= 0),
    ADD COLUMN costs_open     NUMERIC(20, 6) NOT NULL DEFAULT 0 CHECK (costs_open >= 0),
    -- Late fee and interest may still change: false once a cycle accrued them with the
    -- principal paid (the fee stops on the day of payment, R-C4).
    ADD COLUMN accruing       BOOLEAN NOT NULL DEFAULT TRUE;
-- Until now an accrued late fee could not be paid: all of it is open.
UPDATE receivables SET late_fee_open = late_fee;
ALTER TABLE receivables
    ADD COLUMN owed NUMERIC(20, 6) GENERATED ALWAYS AS
        (open_amount + late_fee_open + interest_open + costs_open) STORED,
    ADD CONSTRAINT late_fee_open_within CHECK (late_fee_open <= late_fee),
    ADD CONSTRAINT interest_open_within CHECK (interest_open <= interest),
    ADD CONSTRAINT costs_open_within CHECK (costs_open <= costs);
DROP INDEX IF EXISTS receivables_open_by_due;
-- The daily cycle's work: whatever is owed or may still accrue.
CREATE INDEX receivables_cycle_by_due ON receivables (due_date, id) WHERE owed > 0 OR accruing;

-- What an applied allocation booked, by component (R-P11), and the order used.
ALTER TABLE allocations ADD COLUMN basis TEXT
    CHECK (basis IN ('payer_named', 'statutory', 'agreed'));
ALTER TABLE allocations ADD COLUMN differs_from_proposal BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE allocation_parts (
    allocation_id  UUID NOT NULL REFERENCES allocations (id),
    component      TEXT NOT NULL CHECK (component IN ('costs', 'interest', 'late_fee', 'principal')),
    amount         NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (allocation_id, component)
);
-- Allocations applied before components existed settled principal only.
INSERT INTO allocation_parts (allocation_id, component, amount)
SELECT id, 'principal', amount FROM allocations WHERE status = 'applied' AND amount > 0;

-- Collection costs booked by event from dunning and legal (R-D12); the id is the producer's,
-- so a repeated event books nothing twice.
CREATE TABLE collection_costs (
    id             UUID PRIMARY KEY,
    receivable_id  UUID NOT NULL REFERENCES receivables (id),
    customer_id    UUID NOT NULL REFERENCES customers (id),
    kind           TEXT NOT NULL CHECK (kind IN ('notice_fee', 'lawyer_fee', 'court_fee',
                                                 'preservation_fee', 'other_legal_cost')),
    amount         NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    incurred_on    DATE NOT NULL,
    source         TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX collection_costs_by_receivable ON collection_costs (receivable_id);

-- Waivers of late fee, interest or costs (R-D6): proposed by one person, decided by another.
CREATE TABLE waivers (
    id             UUID PRIMARY KEY,
    receivable_id  UUID NOT NULL REFERENCES receivables (id),
    customer_id    UUID NOT NULL REFERENCES customers (id),
    component      TEXT NOT NULL CHECK (component IN ('costs', 'interest', 'late_fee')),
    amount         NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    reason         TEXT NOT NULL CHECK (reason <> ''),
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected')),
    proposed_by    TEXT NOT NULL,
    proposed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    decided_by     TEXT,
    decided_at     TIMESTAMPTZ,
    decision_note  TEXT NOT NULL DEFAULT '',
    CHECK ((status = 'proposed') = (decided_by IS NULL)),
    CHECK (decided_by IS NULL OR decided_by <> proposed_by)
);
CREATE INDEX waivers_by_customer ON waivers (customer_id, proposed_at);
CREATE INDEX waivers_by_receivable ON waivers (receivable_id);
