-- Refunds of an unapplied surplus (R-P9: the person who requests is not the one who approves).
-- A refund reserves its amount while requested; approval books it: `payments.refunded` grows
-- in the same transaction, with the payment row locked, so the approved total never passes
-- the payment's unapplied surplus.
CREATE TABLE refunds (
    id                   UUID PRIMARY KEY,
    payment_id           UUID NOT NULL REFERENCES payments (id),
    amount               NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    currency             CHAR(3) NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'cancelled')),
    reason               TEXT NOT NULL CHECK (btrim(reason) <> ''),
    -- The authenticated principals (R-O3), never a name from the request.
    requested_by         TEXT NOT NULL,
    requested_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    decided_by           TEXT,
    decided_at           TIMESTAMPTZ,
    decision_reason      TEXT NOT NULL DEFAULT '',
    -- Where the money goes: the payer's account as its blind index and masked form only
    -- (R-O4); the sealed account stays on the payment.
    payer_account_index  TEXT NOT NULL DEFAULT '',
    payer_account_masked TEXT NOT NULL DEFAULT '',
    -- Client idempotency key: a repeat returns the first result.
    idempotency_key      TEXT NOT NULL UNIQUE,
    request_hash         TEXT NOT NULL,
    -- R-P9 held by the database as well: an approval or rejection is by another person.
    CONSTRAINT refunds_decided_by_another CHECK (
        status NOT IN ('approved', 'rejected') OR (decided_by IS NOT NULL AND decided_by <> requested_by)),
    CONSTRAINT refunds_cancelled_by_requester CHECK (status <> 'cancelled' OR decided_by = requested_by)
);
CREATE INDEX refunds_by_payment ON refunds (payment_id);
CREATE INDEX refunds_listed ON refunds (requested_at, id);

-- Σ of the payment's approved refunds, in the currency of its surplus.
ALTER TABLE payments ADD COLUMN refunded NUMERIC(20, 6) NOT NULL DEFAULT 0 CHECK (refunded >= 0);
