-- Issue 13: the policy engine wired into the service. Cases and actions record the policy
-- and version (item 1), holds their reason (R-D12); the day's ladder runs once dunning has
-- every overdue event of the day (R-D3); debtors' contact details, written notices,
-- outbound messages and collectors' tasks (items 2-4).

ALTER TABLE cases
    ADD COLUMN policy_id      TEXT NOT NULL DEFAULT '',
    ADD COLUMN policy_version INT  NOT NULL DEFAULT 0,
    ADD COLUMN hold_reason    TEXT CHECK (hold_reason IN ('ALREADY_TODAY', 'SPACING',
                                  'OLDEST_ITEM_CHANGED', 'WAITING_FOR_NEXT_STEP')),
    ADD COLUMN held_since     DATE;

ALTER TABLE case_items
    ADD COLUMN charge_type TEXT NOT NULL DEFAULT '',
    ADD COLUMN late_fee_terms TEXT NOT NULL DEFAULT '',
    ADD COLUMN principal   NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN other       NUMERIC(20, 6) NOT NULL DEFAULT 0;

ALTER TABLE actions
    ADD COLUMN policy_id      TEXT NOT NULL DEFAULT '',
    ADD COLUMN policy_version INT  NOT NULL DEFAULT 0,
    ADD COLUMN channel        TEXT,
    ADD COLUMN occurrence     INT  NOT NULL DEFAULT 0,
    ADD COLUMN severity       INT  NOT NULL DEFAULT 0,
    ADD COLUMN amount         NUMERIC(20, 6),
    ADD COLUMN currency       CHAR(3),
    ADD COLUMN notice_id      UUID;

-- R-D12: the day a case went into a hold, and why (a transition, not every held day).
CREATE TABLE case_holds (
    case_id        UUID NOT NULL REFERENCES cases (id),
    business_date  DATE NOT NULL,
    reason         TEXT NOT NULL,
    step           TEXT NOT NULL,
    PRIMARY KEY (case_id, business_date)
);

-- The ladder's daily run: contracts says how many overdue events a cycle published
-- (DailyCycleCompleted); the run starts when dunning has seen them all, goes through the
-- debtors in customer order and records how far it got, so a crash resumes it.
CREATE TABLE ladder_days (
    business_date   DATE PRIMARY KEY,
    expected        INT  NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'done')),
    after_customer  UUID,
    steps           INT  NOT NULL DEFAULT 0,
    holds           INT  NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ
);
CREATE TABLE overdue_seen (
    business_date  DATE NOT NULL,
    receivable_id  UUID NOT NULL,
    PRIMARY KEY (business_date, receivable_id)
);

-- Contact details (personal data: never in events, logs or errors in clear).
CREATE TABLE debtors (
    customer_id      UUID PRIMARY KEY,
    name             TEXT NOT NULL DEFAULT '',
    time_zone        TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    language         TEXT NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en')),
    conduct_profile  TEXT NOT NULL DEFAULT 'cn',
    unit             TEXT NOT NULL DEFAULT '',
    -- The unit last billed (R-C3): policies choose steps by them (R-D7).
    segment          TEXT CHECK (segment IN ('residential', 'commercial', 'villa', 'parking')),
    occupancy        TEXT CHECK (occupancy IN ('vacant', 'occupied')),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE debtor_contacts (
    customer_id  UUID NOT NULL REFERENCES debtors (customer_id),
    position     INT  NOT NULL,
    channel      TEXT NOT NULL,
    address      TEXT NOT NULL,
    recipient    TEXT NOT NULL CHECK (recipient IN ('debtor', 'designated_contact')),
    PRIMARY KEY (customer_id, position)
);

-- Written notices (R-D3), with the SHA-256 of the PDF as issued.
CREATE TABLE notices (
    id             UUID PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    case_id        UUID NOT NULL REFERENCES cases (id),
    customer_id    UUID NOT NULL,
    action_id      UUID NOT NULL UNIQUE,
    step           TEXT NOT NULL,
    occurrence     INT  NOT NULL,
    business_date  DATE NOT NULL,
    currency       CHAR(3) NOT NULL,
    total          NUMERIC(20, 6) NOT NULL,
    fee            NUMERIC(20, 6) NOT NULL,
    pay_by         DATE NOT NULL,
    language       TEXT NOT NULL,
    sha256         BYTEA NOT NULL CHECK (octet_length(sha256) = 32),
    pdf            BYTEA NOT NULL,
    html           TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notices_by_customer ON notices (customer_id, created_at);
CREATE SEQUENCE notice_numbers;

-- Outbound messages: scheduled at the conduct-checked time, sent by the dispatcher.
CREATE TABLE messages (
    id               UUID PRIMARY KEY,
    idempotency_key  TEXT UNIQUE,
    customer_id      UUID NOT NULL,
    case_id          UUID,
    channel          TEXT NOT NULL,
    address          TEXT NOT NULL,
    template         TEXT NOT NULL,
    language         TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    notice_id        UUID REFERENCES notices (id),
    requested_at     TIMESTAMPTZ NOT NULL,
    due_at           TIMESTAMPTZ NOT NULL,
    refused_for      TEXT CHECK (refused_for IN ('QUIET_HOURS', 'FREQUENCY_CAP', 'HOLIDAY',
                         'THIRD_PARTY_DISCLOSURE')),
    status           TEXT NOT NULL CHECK (status IN ('scheduled', 'delivered', 'failed')),
    attempts         INT  NOT NULL DEFAULT 0,
    failure          TEXT NOT NULL DEFAULT '',
    requested_by     TEXT NOT NULL,
    contact_log_seq  BIGINT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX messages_due ON messages (due_at) WHERE status = 'scheduled';
CREATE INDEX messages_by_customer ON messages (customer_id, due_at);

-- Phone calls, visits and notices to post or mail: work for collectors (item 3).
CREATE TABLE tasks (
    id               UUID PRIMARY KEY,
    idempotency_key  TEXT UNIQUE,
    customer_id      UUID NOT NULL,
    case_id          UUID,
    channel          TEXT NOT NULL,
    step             TEXT NOT NULL,
    requested_at     TIMESTAMPTZ NOT NULL,
    due_at           TIMESTAMPTZ NOT NULL,
    refused_for      TEXT CHECK (refused_for IN ('QUIET_HOURS', 'FREQUENCY_CAP', 'HOLIDAY',
                         'THIRD_PARTY_DISCLOSURE')),
    assignee         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('open', 'done')),
    outcome          TEXT,
    completed_by     TEXT,
    completed_at     TIMESTAMPTZ,
    note             TEXT NOT NULL DEFAULT '',
    notice_id        UUID REFERENCES notices (id),
    contact_log_seq  BIGINT,
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tasks_open ON tasks (due_at) WHERE status = 'open';
CREATE INDEX tasks_by_customer ON tasks (customer_id, due_at);

-- The public halves of the keys that signed contact-log checkpoints (R-L8), so a checkpoint
-- signed by an earlier process can still be verified; the published ContactLogCheckpointed
-- events carry them too, for anyone who does not trust this table.
CREATE TABLE contact_log_keys (
    key_id      TEXT PRIMARY KEY,
    public_key  BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
    first_used  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- R-D14: what each retention run removed.
CREATE TABLE retention_runs (
    id                    UUID PRIMARY KEY,
    ran_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    cutoff                DATE NOT NULL,
    customers             INT NOT NULL,
    messages_anonymised   INT NOT NULL,
    tasks_anonymised      INT NOT NULL,
    notices_redacted      INT NOT NULL,
    contacts_deleted      INT NOT NULL
);

-- R-D1: reminders before and on the due date need the items not yet overdue: every scheduled
-- or billed receivable, kept current by payments and amendments.
CREATE TABLE upcoming (
    receivable_id  UUID PRIMARY KEY,
    customer_id    UUID NOT NULL,
    contract_no    TEXT NOT NULL,
    due_date       DATE NOT NULL,
    currency       CHAR(3) NOT NULL,
    open_amount    NUMERIC(20, 6) NOT NULL,
    charge_type    TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL CHECK (status IN ('open', 'settled'))
);
CREATE INDEX upcoming_due ON upcoming (due_date, customer_id) WHERE status = 'open';

-- The pre-due reminders sent, once per debtor, due date and step.
CREATE TABLE reminders_sent (
    customer_id    UUID NOT NULL,
    due_date       DATE NOT NULL,
    step           TEXT NOT NULL,
    severity       INT  NOT NULL,
    business_date  DATE NOT NULL,
    policy_id      TEXT NOT NULL,
    policy_version INT  NOT NULL,
    PRIMARY KEY (customer_id, due_date, step)
);
