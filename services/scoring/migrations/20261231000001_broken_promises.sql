-- R-D5: promises to pay dunning judged broken; each lowers the grade (scorecard dpd-v2).
CREATE TABLE broken_promises (
    promise_id   UUID PRIMARY KEY,
    customer_id  UUID NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX broken_promises_by_customer ON broken_promises (customer_id);
