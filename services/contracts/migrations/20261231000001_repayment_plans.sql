-- Repayment plans agreed in dunning (R-D6), booked here: while a plan is kept, late fee and
-- interest on its receivables stop accruing from the day it was agreed; a broken plan lets
-- them accrue again through the whole time (the hardship relief is lost), a completed one
-- has nothing left to accrue on.
CREATE TABLE repayment_plans (
    plan_id         UUID PRIMARY KEY,
    customer_id     UUID NOT NULL,
    receivable_ids  UUID[] NOT NULL,
    currency        CHAR(3) NOT NULL,
    total           NUMERIC(20, 6) NOT NULL,
    agreed_on       DATE NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'broken', 'completed')),
    ended_on        DATE,
    booked_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX repayment_plans_active ON repayment_plans USING GIN (receivable_ids)
    WHERE status = 'active';
CREATE TABLE repayment_plan_installments (
    plan_id   UUID NOT NULL REFERENCES repayment_plans (plan_id),
    number    INT NOT NULL,
    due_date  DATE NOT NULL,
    amount    NUMERIC(20, 6) NOT NULL,
    PRIMARY KEY (plan_id, number)
);
