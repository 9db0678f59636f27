-- Dunning's side of the read model (R-O1, R-D11): the steps taken (recovery by step), the
-- promises to pay (forecast, collectors' KPIs) and the demands that reached a debtor
-- (collectors' contacts). Amounts, dates, codes and ids only (R-O4).

-- One executed dunning step (ActionExecuted, "stopped" excluded): the ladder stage is the
-- step's channel (types.v1.ContactChannel, stored by its number).
CREATE TABLE dunning_steps (
    event_id       uuid PRIMARY KEY,
    customer_id    uuid NOT NULL,
    case_id        uuid,
    step           text NOT NULL,
    channel        integer NOT NULL,
    on_date        date NOT NULL,
    occurred_at    timestamptz NOT NULL,
    receivable_ids uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX dunning_steps_date ON dunning_steps (on_date);
CREATE INDEX dunning_steps_receivables ON dunning_steps USING gin (receivable_ids);

-- Promises to pay (PromiseMade; PromiseJudged closes them). A judgement may arrive for a
-- promise made before reporting ran: it is kept with what the judgement says.
CREATE TABLE promises (
    promise_id    uuid PRIMARY KEY,
    customer_id   uuid NOT NULL,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount        numeric(20, 2) NOT NULL CHECK (amount >= 0),
    promised_date date NOT NULL,
    made_on       date,
    kept          boolean,
    judged_on     date,
    paid          numeric(20, 2)
);
CREATE INDEX promises_customer ON promises (customer_id);

-- Demands that reached the debtor (DemandDelivered), one per contact-log entry.
CREATE TABLE contacts (
    contact_log_seq bigint PRIMARY KEY,
    customer_id     uuid NOT NULL,
    channel         integer NOT NULL,
    on_date         date NOT NULL
);
CREATE INDEX contacts_customer ON contacts (customer_id);
