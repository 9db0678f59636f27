-- Promises to pay (R-D5; issue 14 item 2): dunning waits for the promised date plus the grace
-- days and judges the promise from the payments applied since it was made.
CREATE TABLE promises (
    id               UUID PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    customer_id      UUID NOT NULL,
    case_id          UUID REFERENCES cases (id),
    amount           NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    currency         CHAR(3) NOT NULL,
    promised_date    DATE NOT NULL,
    grace_days       INT  NOT NULL CHECK (grace_days BETWEEN 0 AND 30),
    threshold        NUMERIC(7, 6) NOT NULL CHECK (threshold > 0 AND threshold <= 1),
    made_on          DATE NOT NULL,
    made_by          TEXT NOT NULL,
    made_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    note             TEXT NOT NULL DEFAULT '',
    paused_step      TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('open', 'kept', 'broken')),
    judged_on        DATE
);
-- One open promise per debtor at a time.
CREATE UNIQUE INDEX promises_one_open ON promises (customer_id) WHERE status = 'open';

-- The payments applied to the debtor's items while a promise is open (once per allocation).
CREATE TABLE promise_payments (
    promise_id     UUID NOT NULL REFERENCES promises (id),
    allocation_id  TEXT NOT NULL,
    booking_date   DATE NOT NULL,
    amount         NUMERIC(20, 6) NOT NULL,
    PRIMARY KEY (promise_id, allocation_id)
);

ALTER TABLE cases DROP CONSTRAINT IF EXISTS cases_hold_reason_check;
ALTER TABLE cases ADD CONSTRAINT cases_hold_reason_check CHECK (hold_reason IN ('ALREADY_TODAY',
    'SPACING', 'OLDEST_ITEM_CHANGED', 'WAITING_FOR_NEXT_STEP', 'PROMISE_TO_PAY'));
