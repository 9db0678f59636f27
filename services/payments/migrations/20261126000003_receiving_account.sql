-- The account a payment arrived on (R-P6 checks it against the regulated escrow accounts).
ALTER TABLE payments ADD COLUMN receiving_account TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_files ADD COLUMN entries_skipped INT NOT NULL DEFAULT 0;
