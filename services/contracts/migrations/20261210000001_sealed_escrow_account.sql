-- R-O4: the escrow account of a contract is sealed at rest like payer accounts (kit::pii,
-- `v2:<key id>:…`); values stored in clear before are sealed by `contracts reseal`.
COMMENT ON COLUMN contracts.escrow_account IS 'sealed with kit::pii (R-O4); clear only before contracts reseal ran';
COMMENT ON COLUMN customers.payer_accounts IS 'sealed with kit::pii, v2:<key id>:… (R-O4)';
