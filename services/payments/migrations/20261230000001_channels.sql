-- Money from every channel (R-P1, R-P3, R-P7): payments that did not come from a bank file
-- (desk cash, cleared instruments), formal receipts numbered without gaps, acknowledgments of
-- cheques, drafts, bills and slips, the desk's daily cash count, the credits the bank is
-- expected to show for them, and when each payment was reconciled.
ALTER TABLE payments ALTER COLUMN file_id DROP NOT NULL;
ALTER TABLE payments ADD COLUMN channel TEXT NOT NULL DEFAULT 'bank'
    CHECK (channel IN ('bank', 'desk_cash', 'instrument', 'wallet', 'card'));
ALTER TABLE payments ADD COLUMN reconciled_at TIMESTAMPTZ;
ALTER TABLE payments ADD CONSTRAINT payments_bank_has_file
    CHECK ((channel = 'desk_cash') = (file_id IS NULL));
-- R-P7: what is still waiting, oldest first.
CREATE INDEX payments_unreconciled ON payments (created_at) WHERE reconciled_at IS NULL;
-- Payments allocated before this migration count as reconciled when they were created.
UPDATE payments SET reconciled_at = created_at WHERE status = 'allocated';

-- An exception about something that is not (yet) a payment: a desk's cash count, a bounced
-- cheque. It names its subject and carries its own amount.
ALTER TABLE exceptions ALTER COLUMN payment_id DROP NOT NULL;
ALTER TABLE exceptions ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE exceptions ADD COLUMN amount NUMERIC(20, 6);
ALTER TABLE exceptions ADD COLUMN currency CHAR(3);
ALTER TABLE exceptions ADD CONSTRAINT exceptions_have_a_subject
    CHECK (payment_id IS NOT NULL OR (subject <> '' AND amount IS NOT NULL AND currency IS NOT NULL));

-- Gap-free numbers (收据, 收条): taken in the transaction that issues the document, so a
-- crash before the commit gives the number back.
CREATE TABLE document_series (
    series   TEXT NOT NULL CHECK (series IN ('receipt', 'acknowledgment')),
    project  TEXT NOT NULL,
    year     INT NOT NULL,
    last_no  INT NOT NULL CHECK (last_no > 0),
    PRIMARY KEY (series, project, year)
);

CREATE TABLE acknowledgments (
    id                     UUID PRIMARY KEY,
    request_id             TEXT NOT NULL UNIQUE,
    project                TEXT NOT NULL,
    year                   INT NOT NULL,
    number                 INT NOT NULL,
    kind                   TEXT NOT NULL
        CHECK (kind IN ('cheque', 'bank_draft', 'acceptance_bill', 'transfer_slip')),
    instrument_no          TEXT NOT NULL,
    -- Upper-case letters and digits of instrument_no: what a bank line's reference must contain.
    instrument_key         TEXT NOT NULL CHECK (length(instrument_key) >= 4),
    drawer                 TEXT NOT NULL,
    drawer_bank            TEXT NOT NULL,
    amount                 NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    currency               CHAR(3) NOT NULL,
    reference              TEXT NOT NULL,
    deposit_account        TEXT NOT NULL,
    deposit_account_index  TEXT NOT NULL,
    business_date          DATE NOT NULL,
    issue_date             DATE,
    due_date               DATE,
    term_days              INT,
    occupation_fee         NUMERIC(20, 6),
    status                 TEXT NOT NULL CHECK (status IN ('pending', 'cleared', 'bounced')),
    payment_id             UUID REFERENCES payments (id),
    bounce_reason          TEXT NOT NULL DEFAULT '',
    exception_id           UUID,
    recorded_by            TEXT NOT NULL,
    recorded_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    settled_at             TIMESTAMPTZ,
    UNIQUE (project, year, number)
);
-- One pending acknowledgment per instrument and amount: a bank line clears exactly one.
CREATE UNIQUE INDEX acknowledgments_pending_instrument
    ON acknowledgments (instrument_key, amount, currency) WHERE status = 'pending';

CREATE TABLE receipts (
    id                 UUID PRIMARY KEY,
    -- The client's id of the request that issued it (desk receipts), unique.
    request_id         TEXT UNIQUE,
    project            TEXT NOT NULL,
    year               INT NOT NULL,
    number             INT NOT NULL,
    channel            TEXT NOT NULL CHECK (channel IN ('desk_cash', 'instrument')),
    status             TEXT NOT NULL CHECK (status IN ('issued', 'void_requested', 'voided')),
    payment_id         UUID NOT NULL REFERENCES payments (id),
    acknowledgment_id  UUID REFERENCES acknowledgments (id),
    amount             NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    currency           CHAR(3) NOT NULL,
    payer_name         TEXT NOT NULL,
    reference          TEXT NOT NULL,
    business_date      DATE NOT NULL,
    issued_by          TEXT NOT NULL,
    issued_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    void_reason        TEXT NOT NULL DEFAULT '',
    void_requested_by  TEXT,
    void_reissue       BOOLEAN NOT NULL DEFAULT false,
    corrected_payer_name TEXT NOT NULL DEFAULT '',
    corrected_reference  TEXT NOT NULL DEFAULT '',
    voided_by          TEXT,
    voided_at          TIMESTAMPTZ,
    replaces           UUID REFERENCES receipts (id),
    replaced_by        UUID REFERENCES receipts (id),
    UNIQUE (project, year, number)
);
CREATE INDEX receipts_by_day ON receipts (project, business_date);
ALTER TABLE payments ADD COLUMN withdrawn BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE desk_days (
    project            TEXT NOT NULL,
    business_date      DATE NOT NULL,
    currency           CHAR(3) NOT NULL,
    expected           NUMERIC(20, 6) NOT NULL,
    counted            NUMERIC(20, 6) NOT NULL CHECK (counted >= 0),
    receipts           INT NOT NULL,
    exception_id       UUID,
    closed_by          TEXT NOT NULL,
    closed_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project, business_date)
);

-- A credit the bank is expected to show that is not a new payment: the desk's cash deposit.
-- The bank line that shows it (its account, amount and the reference's key) is linked here.
-- A batch a wallet or card acquirer pays out as one bank credit (its settlement report's
-- lines are the payments; the bank shows the net of the batch once).
CREATE TABLE settlement_batches (
    id                 UUID PRIMARY KEY,
    channel            TEXT NOT NULL CHECK (channel IN ('wechatpay', 'alipay', 'pos')),
    batch              TEXT NOT NULL,
    account_index      TEXT NOT NULL,
    currency           CHAR(3) NOT NULL,
    payments           INT NOT NULL,
    refunds            INT NOT NULL,
    gross              NUMERIC(20, 6) NOT NULL,
    fee                NUMERIC(20, 6) NOT NULL,
    net                NUMERIC(20, 6) NOT NULL CHECK (net = gross - fee),
    settled_on         DATE,
    file_id            UUID NOT NULL REFERENCES bank_files (id),
    bank_fingerprint   TEXT,
    bank_amount        NUMERIC(20, 6),
    reconciled_at      TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (channel, batch, account_index, currency)
);
-- The channel's fee on each wallet or card payment (the customer paid the gross).
ALTER TABLE payments ADD COLUMN fee NUMERIC(20, 6);
ALTER TABLE payments ADD COLUMN settlement_batch_id UUID REFERENCES settlement_batches (id);

CREATE TABLE expected_credits (
    id                     UUID PRIMARY KEY,
    kind                   TEXT NOT NULL CHECK (kind IN ('desk_deposit', 'settlement_batch')),
    -- The batch, for kind settlement_batch.
    batch_id               UUID REFERENCES settlement_batches (id),
    -- Upper-case words the bank writes for this payer (e.g. 财付通, ALIPAY, 银联): a line on the
    -- account with exactly the amount that carries one of them is the credit too.
    hints                  TEXT[] NOT NULL DEFAULT '{}',
    account_index          TEXT NOT NULL,
    amount                 NUMERIC(20, 6) NOT NULL CHECK (amount > 0),
    currency               CHAR(3) NOT NULL,
    reference_key          TEXT NOT NULL,
    subject                TEXT NOT NULL,
    linked_fingerprint     TEXT,
    -- What the linked bank line said (differs from amount when the exception was raised).
    linked_amount          NUMERIC(20, 6),
    -- The bank line's booking date: the day book-to-bank counts the credit (R-P7).
    linked_on              DATE,
    linked_at              TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Bank lines linked to an expected credit, per file (IngestBankFileResponse.lines_linked).
ALTER TABLE bank_files ADD COLUMN lines_linked INT NOT NULL DEFAULT 0;
CREATE INDEX expected_credits_open ON expected_credits (account_index, currency) WHERE linked_at IS NULL;
