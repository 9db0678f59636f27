-- Book-to-bank (R-P7): what each statement of a file reported, refused ones included, per
-- receiving account and business day; and (R-P2, R-P5) what became of a bank line seen again.

CREATE TABLE bank_statements (
    id            UUID PRIMARY KEY,
    file_id       UUID NOT NULL REFERENCES bank_files (id),
    line_no       INT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('statement', 'intraday', 'notification')),
    -- R-O4: the account's blind index (PII_INDEX_KEY) to find it, and its masked form to
    -- show it; never the account itself.
    account_index  TEXT NOT NULL,
    account_masked TEXT NOT NULL,
    currency      TEXT NOT NULL,
    business_date DATE NOT NULL,
    opening       NUMERIC(20, 6),
    closing       NUMERIC(20, 6),
    credits       NUMERIC(20, 6) NOT NULL,
    debits        NUMERIC(20, 6) NOT NULL,
    credit_lines  INT NOT NULL,
    fingerprints  TEXT[] NOT NULL DEFAULT '{}',
    rejected      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bank_statements_day ON bank_statements (account_index, business_date);

-- Where a line was first seen, to tell a by-design repeat from a duplicate.
-- The receiving account as its blind index (R-O4): equal accounts, equal indexes.
ALTER TABLE bank_lines
    ADD COLUMN receiving_account_index TEXT NOT NULL DEFAULT '',
    ADD COLUMN source TEXT NOT NULL DEFAULT 'statement';

CREATE TABLE bank_line_repeats (
    file_id      UUID NOT NULL REFERENCES bank_files (id),
    line_no      INT NOT NULL,
    fingerprint  TEXT NOT NULL REFERENCES bank_lines (fingerprint),
    source       TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('linked', 'duplicate')),
    -- linked: the first sighting's payment; duplicate: the payment held for a person.
    payment_id   UUID NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (file_id, line_no, fingerprint)
);
CREATE INDEX bank_line_repeats_payment ON bank_line_repeats (payment_id);
