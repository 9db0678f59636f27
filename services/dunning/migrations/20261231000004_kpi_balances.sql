-- Issue 14 item 5 (R-O7, R-D11): CEI and recovery rate need each receivable's balance as of
-- past days. Every time dunning learns what is owed on a receivable it appends it here,
-- dated by the business day it applies to (NULL: as scheduled, before any day), with the
-- due date and whether contracts reported it overdue from then on. Append-only; the KPIs
-- replay it (services/dunning/src/domain/kpi.rs).
CREATE TABLE kpi_balances (
    seq            BIGSERIAL PRIMARY KEY,
    receivable_id  UUID NOT NULL,
    customer_id    UUID NOT NULL,
    currency       CHAR(3) NOT NULL,
    on_date        DATE,
    due_date       DATE NOT NULL,
    owed           NUMERIC(20, 6) NOT NULL,
    overdue        BOOLEAN NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('scheduled', 'overdue', 'paid', 'written_off',
                                              'waived', 'amended'))
);
CREATE INDEX kpi_balances_by_customer ON kpi_balances (customer_id, currency, receivable_id, on_date, seq);

-- What was known before this table: the items as dunning holds them now, from the last day
-- the ladder ran (overdue items in an active case) or as scheduled (the rest).
INSERT INTO kpi_balances (receivable_id, customer_id, currency, on_date, due_date, owed, overdue, kind)
SELECT u.receivable_id, u.customer_id, u.currency, NULL, u.due_date,
       CASE WHEN u.status = 'settled' THEN 0 ELSE u.open_amount END, false, 'scheduled'
FROM upcoming u;
INSERT INTO kpi_balances (receivable_id, customer_id, currency, on_date, due_date, owed, overdue, kind)
SELECT i.receivable_id, c.customer_id, i.currency,
       (SELECT max(business_date) FROM ladder_days), i.due_date, i.open_amount + i.late_fee, true, 'overdue'
FROM case_items i JOIN cases c ON c.id = i.case_id
WHERE c.status = 'active' AND i.status = 'open' AND EXISTS (SELECT 1 FROM ladder_days);
