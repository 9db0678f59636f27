-- R-C9, R-O3: owners live in the kit's `owners` table (the same shape every service scopes
-- reads by); this is the history of who moved whose work, and why.
CREATE TABLE owner_reassignments (
    id              BIGSERIAL   PRIMARY KEY,
    customer_id     UUID        NOT NULL REFERENCES customers (id),
    contract_id     UUID        REFERENCES contracts (id),
    previous_owner  TEXT        NOT NULL,
    previous_team   TEXT        NOT NULL,
    owner           TEXT        NOT NULL,
    team            TEXT        NOT NULL,
    reassigned_by   TEXT        NOT NULL,
    reason          TEXT        NOT NULL,
    reassigned_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX owner_reassignments_customer ON owner_reassignments (customer_id, id);
