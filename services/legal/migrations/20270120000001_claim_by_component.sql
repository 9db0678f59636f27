-- Issue 15 legal item 3 (R-L4): a case claims everything contracts says is owed on its items,
-- by component, and the figures move both ways (accruals and costs raise them). The read
-- model keeps each receivable's latest owed figures from contracts' events (one debtor's
-- events arrive in order), payments or not.
ALTER TABLE receivable_balances
    ADD COLUMN costs     NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN interest  NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN late_fee  NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN principal NUMERIC(20, 6),
    ALTER COLUMN last_payment DROP NOT NULL;
-- Rows written before: the open amount was all that was known.
UPDATE receivable_balances SET principal = open_amount WHERE principal IS NULL;
ALTER TABLE receivable_balances ALTER COLUMN principal SET NOT NULL;
COMMENT ON COLUMN receivable_balances.open_amount IS 'everything owed: costs + interest + late_fee + principal';

ALTER TABLE case_receivables
    ADD COLUMN costs     NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN interest  NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN late_fee  NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN principal NUMERIC(20, 6);
UPDATE case_receivables SET principal = open_amount WHERE principal IS NULL;
ALTER TABLE case_receivables ALTER COLUMN principal SET NOT NULL;
COMMENT ON COLUMN case_receivables.open_amount IS 'everything owed now: costs + interest + late_fee + principal';
