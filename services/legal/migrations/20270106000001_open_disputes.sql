-- R-L7: the debtor's disputes still open with dunning (R-D8), from DisputeOpened and
-- DisputeResolved. A payment order is available only when none is open.
CREATE TABLE open_disputes (
    dispute_id      UUID PRIMARY KEY,
    customer_id     UUID NOT NULL,
    receivable_ids  UUID[] NOT NULL,
    reason          TEXT NOT NULL,
    opened_at       TEXT NOT NULL
);
CREATE INDEX open_disputes_by_customer ON open_disputes (customer_id);
-- A dispute resolved before its opening was seen (replay out of order) is never reopened.
CREATE TABLE resolved_disputes (
    dispute_id  UUID PRIMARY KEY
);
