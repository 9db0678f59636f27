-- R-O4: no account number in clear. ContractSigned and PayerAccountAdded (schema version 2)
-- carry blind indexes (HMAC-SHA-256 under the PII_INDEX_KEY shared with contracts) and masked
-- forms; cash application compares payer and escrow accounts by blind index only.
ALTER TABLE open_receivables ADD COLUMN payer_accounts_masked TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE open_receivables ADD COLUMN escrow_account_index TEXT NOT NULL DEFAULT '';
ALTER TABLE open_receivables ADD COLUMN escrow_account_masked TEXT NOT NULL DEFAULT '';
COMMENT ON COLUMN open_receivables.payer_accounts IS 'legacy (ContractSigned v1): sealed accounts; payments reseal re-seals them and recomputes payer_account_indexes';
COMMENT ON COLUMN open_receivables.escrow_account IS 'legacy (ContractSigned v1): payments reseal seals a clear value and computes escrow_account_index';
-- The account a payment arrived on, sealed like the payer account, with its blind index.
ALTER TABLE payments ADD COLUMN receiving_account_index TEXT NOT NULL DEFAULT '';
COMMENT ON COLUMN payments.receiving_account IS 'sealed with kit::pii (R-O4); clear only before payments reseal ran';
COMMENT ON COLUMN payments.payer_account IS 'sealed with kit::pii, v2:<key id>:… (R-O4); empty when the bank gave none';
