-- Cash application with the cashapp engine (R-P4, R-P5, R-P6).

-- What the engine needs to know about each open receivable, from ContractSigned.
ALTER TABLE open_receivables ADD COLUMN customer_name TEXT NOT NULL DEFAULT '';
ALTER TABLE open_receivables ADD COLUMN payer_accounts TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE open_receivables ADD COLUMN escrow_account TEXT NOT NULL DEFAULT '';
ALTER TABLE open_receivables ADD COLUMN unit TEXT;
CREATE INDEX open_receivables_by_customer ON open_receivables (customer_id);

-- The decision for each payment, for audit: confidence (basis points) and evidence texts.
ALTER TABLE payments ADD COLUMN confidence INT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN evidence TEXT[] NOT NULL DEFAULT '{}';
-- The whole decision as the engine explained it (allocations, FX rate used, notes).
ALTER TABLE payments ADD COLUMN decision JSONB;
CREATE INDEX payments_recent ON payments (created_at);

-- An exception's candidates with their evidence, and further reasons that also hold.
ALTER TABLE exceptions ADD COLUMN candidates JSONB NOT NULL DEFAULT '[]';
ALTER TABLE exceptions ADD COLUMN also TEXT[] NOT NULL DEFAULT '{}';

-- Allocations name the installment too ("HT-2026-0001/2").
ALTER TABLE allocations ADD COLUMN receivable_ref TEXT NOT NULL DEFAULT '';
CREATE INDEX allocations_by_payment ON allocations (payment_id);

-- The in-memory ledger of every payments process is valid only while this token is the one
-- it was built or last changed under; every change to what the ledger holds sets a new one.
CREATE TABLE ledger_state (
    singleton  BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    token      UUID NOT NULL
);
INSERT INTO ledger_state (token) VALUES ('00000000-0000-0000-0000-000000000000');
