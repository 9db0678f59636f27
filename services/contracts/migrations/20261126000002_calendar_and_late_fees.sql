-- R-C6: due dates moved out of long public holidays keep the date the schedule asked for.
-- R-C4: late-fee terms per contract and the fee accrued by the daily cycle.
ALTER TABLE contracts ADD COLUMN late_fee_policy TEXT;

ALTER TABLE receivables ADD COLUMN scheduled_due_date DATE;
UPDATE receivables SET scheduled_due_date = due_date;
ALTER TABLE receivables ALTER COLUMN scheduled_due_date SET NOT NULL;
ALTER TABLE receivables ADD COLUMN due_date_provisional BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE receivables ADD COLUMN late_fee NUMERIC(20, 6) NOT NULL DEFAULT 0;
