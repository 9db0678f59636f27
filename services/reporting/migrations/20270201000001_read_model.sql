-- The reporting read model (R-O1, R-O2): built from every service's events, owning nothing
-- the others own.

-- One receivable: its principal as billed and the business date it became receivable.
CREATE TABLE items (
    receivable_id uuid PRIMARY KEY,
    contract_id   uuid NOT NULL,
    customer_id   uuid NOT NULL,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    due_date      date NOT NULL,
    billed_on     date NOT NULL,
    amount        numeric(20, 2) NOT NULL CHECK (amount >= 0)
);
CREATE INDEX items_contract ON items (contract_id);

-- Every later change to an item's principal, with the business date it took effect. No
-- foreign key: an event about an item reporting never saw (history before it was deployed)
-- is kept and counts once the item is known.
CREATE TABLE movements (
    id            bigserial PRIMARY KEY,
    receivable_id uuid NOT NULL,
    on_date       date NOT NULL,
    principal     numeric(20, 2) NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('paid', 'waived', 'written_off', 'amended')),
    event_id      uuid NOT NULL
);
CREATE INDEX movements_item ON movements (receivable_id);

-- The trace (R-O2): one row per event that tells part of a debt's story, with the ids it
-- names. Summaries never hold personal data (R-O4).
CREATE TABLE timeline (
    event_id       uuid PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    service        text NOT NULL,
    event          text NOT NULL,
    summary        text NOT NULL,
    customer_id    uuid,
    contract_id    uuid,
    receivable_ids uuid[] NOT NULL DEFAULT '{}',
    payment_id     uuid,
    case_id        uuid
);
CREATE INDEX timeline_contract ON timeline (contract_id);
CREATE INDEX timeline_receivables ON timeline USING gin (receivable_ids);
CREATE INDEX timeline_payment ON timeline (payment_id);
CREATE INDEX timeline_case ON timeline (case_id);

-- Recorded provision runs (R-O8): the base of the next run's change and voucher.
CREATE TABLE provision_runs (
    currency    text NOT NULL,
    as_of       date NOT NULL,
    matrix      text NOT NULL,
    total       numeric(20, 2) NOT NULL,
    by_bucket   jsonb NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (currency, as_of)
);
