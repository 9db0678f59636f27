-- The work queue's model (issue 14 item 1) reads whether a debtor paid lately: every
-- allocation dunning hears of, once.
CREATE TABLE payments_seen (
    allocation_id  TEXT PRIMARY KEY,
    customer_id    UUID NOT NULL,
    booking_date   DATE NOT NULL,
    amount         NUMERIC(20, 6) NOT NULL,
    currency       CHAR(3) NOT NULL
);
CREATE INDEX payments_seen_by_customer ON payments_seen (customer_id, booking_date);
