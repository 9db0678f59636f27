-- R-O4: payer accounts are stored sealed (kit::pii, AES-256-GCM under PII_KEY), never plain.
COMMENT ON COLUMN customers.payer_accounts IS 'sealed with kit::pii under PII_KEY (R-O4)';
