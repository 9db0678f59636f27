-- Disputes (R-D8; issue 14 item 4): dunning pauses for the disputed items only, and a ticket
-- waits for a response within the SLA.
CREATE TABLE disputes (
    id               UUID PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    customer_id      UUID NOT NULL,
    case_id          UUID NOT NULL REFERENCES cases (id),
    receivable_ids   UUID[] NOT NULL,
    reason           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'rejected', 'upheld')),
    opened_at        TIMESTAMPTZ NOT NULL,
    deadline         TIMESTAMPTZ NOT NULL,
    sla_basis        TEXT NOT NULL CHECK (sla_basis IN ('calendar_hours', 'business_hours')),
    sla_hours        INT  NOT NULL,
    breached_at      TIMESTAMPTZ,
    assignee         TEXT NOT NULL,
    opened_by        TEXT NOT NULL,
    resolved_by      TEXT,
    resolved_at      TIMESTAMPTZ,
    resolution_note  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX disputes_due ON disputes (deadline) WHERE status = 'open' AND breached_at IS NULL;
CREATE INDEX disputes_by_customer ON disputes (customer_id);

-- A disputed item stays open (payments still apply) but the ladder passes it by.
ALTER TABLE case_items ADD COLUMN dispute_id UUID REFERENCES disputes (id);
-- An upheld dispute takes the item out of dunning.
ALTER TABLE case_items DROP CONSTRAINT IF EXISTS case_items_status_check;
ALTER TABLE case_items ADD CONSTRAINT case_items_status_check
    CHECK (status IN ('open', 'paid', 'escalated', 'deferred', 'amended', 'upheld'));

-- Simulations move dunning's clock for deadlines (BUSINESS_CLOCK=simulated only).
CREATE TABLE clock (
    id              BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    offset_seconds  BIGINT NOT NULL
);
