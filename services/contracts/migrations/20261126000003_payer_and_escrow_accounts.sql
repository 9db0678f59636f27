-- What cash application needs to know (R-P4, R-P6): the accounts a customer pays from, and
-- the account a contract's payments must arrive on (the project's regulated escrow account for
-- a presale, else the company's collection account), and the unit the contract is for.
ALTER TABLE customers ADD COLUMN payer_accounts TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE contracts ADD COLUMN escrow_account TEXT NOT NULL DEFAULT '';
ALTER TABLE contracts ADD COLUMN unit TEXT;
