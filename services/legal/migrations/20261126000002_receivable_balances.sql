-- The lowest open amount each receivable was last reported at (AllocationApplied), kept for
-- every receivable, case or not: payments and escalations travel on different topics, so a
-- payment may arrive before the escalation of the same receivable, and the case must not
-- open with a stale claim (R-L4). Open amounts only go down.
CREATE TABLE receivable_balances (
    receivable_id  UUID PRIMARY KEY,
    open_amount    NUMERIC(20, 6) NOT NULL,
    last_payment   DATE NOT NULL
);
