-- Discounts as contract terms (R-C7): lump-sum and stepped early-payment discounts, and
-- interest-free down-payment installments.
ALTER TABLE contracts ADD COLUMN discount_terms JSONB;
ALTER TABLE receivables ADD COLUMN interest_free BOOLEAN NOT NULL DEFAULT FALSE;
-- Principal taken off by an early-payment discount: billed = paid + waived + written off +
-- discounted + open.
ALTER TABLE receivables ADD COLUMN discounted NUMERIC(20, 6) NOT NULL DEFAULT 0 CHECK (discounted >= 0);
-- Every discount granted, with the payment that earned it and the step reached.
CREATE TABLE early_payment_discounts (
    allocation_id    UUID PRIMARY KEY REFERENCES allocations (id),
    receivable_id    UUID NOT NULL REFERENCES receivables (id),
    days_before_due  INT NOT NULL CHECK (days_before_due > 0),
    percent          NUMERIC(7, 4) NOT NULL CHECK (percent > 0 AND percent < 100),
    amount           NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX early_payment_discounts_by_receivable ON early_payment_discounts (receivable_id);
