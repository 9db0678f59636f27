-- Every change to what the cash-application ledger holds, in order, so a payments process
-- whose ledger is behind (another replica changed something) replays the changes instead of
-- rebuilding the whole ledger. `version` is gapless (it is taken under the ledger lock, in the
-- same transaction); `token` identifies the state it produced. Kept for a day.
ALTER TABLE ledger_state ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE TABLE ledger_changes (
    version      BIGINT PRIMARY KEY,
    token        UUID NOT NULL,
    -- Receivables added (ContractSigned).
    added        UUID[] NOT NULL DEFAULT '{}',
    -- Receivables whose open amount changed, as the ledger names them ("HT-2026-0001/2").
    amounts      TEXT[] NOT NULL DEFAULT '{}',
    -- Payments applied (remembered for duplicate detection).
    applied      UUID[] NOT NULL DEFAULT '{}',
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
