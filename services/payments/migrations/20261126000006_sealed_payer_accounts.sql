-- R-O4: payer accounts are stored sealed (kit::pii, AES-256-GCM under PII_KEY) and found by a
-- keyed blind index (HMAC-SHA-256 of the account's letters and digits), never in plain text.
COMMENT ON COLUMN payments.payer_account IS 'sealed with kit::pii under PII_KEY (R-O4); empty when the bank gave none';
ALTER TABLE payments ADD COLUMN payer_account_index TEXT NOT NULL DEFAULT '';
CREATE INDEX payments_by_payer_account ON payments (payer_account_index) WHERE payer_account_index <> '';
COMMENT ON COLUMN open_receivables.payer_accounts IS 'sealed with kit::pii under PII_KEY (R-O4)';
ALTER TABLE open_receivables ADD COLUMN payer_account_indexes TEXT[] NOT NULL DEFAULT '{}';
