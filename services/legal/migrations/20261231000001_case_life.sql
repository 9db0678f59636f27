-- The life of a case (R-L2, issue 15): statuses from opened to closed with an outcome, asset
-- preservation as a flag, and every step in the history with who, when, the date, the
-- document and the reason. "withdrawal_requested" was a status; it is the flag
-- withdrawal_flagged now (R-L4) and the case stays in the status it had.

ALTER TABLE cases DROP CONSTRAINT cases_status_check;
UPDATE cases SET status = 'opened' WHERE status = 'withdrawal_requested';
ALTER TABLE cases
    ADD COLUMN outcome TEXT CHECK (outcome IN ('paid', 'settled', 'withdrawn', 'written_off')),
    ADD COLUMN closed_on DATE,
    ADD COLUMN assets_preserved BOOLEAN NOT NULL DEFAULT FALSE,
    ADD CONSTRAINT cases_status_check CHECK (status IN ('opened', 'lawyers_letter_sent',
        'payment_order_applied', 'litigation_filed', 'judgment', 'enforcement', 'closed')),
    ADD CONSTRAINT cases_closed_with_outcome CHECK (
        (status = 'closed') = (outcome IS NOT NULL) AND (status = 'closed') = (closed_on IS NOT NULL));

CREATE TABLE case_steps (
    id                  UUID PRIMARY KEY,
    case_id             UUID NOT NULL REFERENCES cases (id),
    from_status         TEXT NOT NULL,
    to_status           TEXT NOT NULL,
    outcome             TEXT,
    asset_preservation  BOOLEAN NOT NULL DEFAULT FALSE,
    on_date             DATE NOT NULL,
    document_reference  TEXT NOT NULL,
    reason              TEXT NOT NULL,
    actor               TEXT NOT NULL,
    idempotency_key     TEXT NOT NULL UNIQUE,
    recorded_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_steps_by_case ON case_steps (case_id, recorded_at);
