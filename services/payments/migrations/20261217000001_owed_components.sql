-- Late fees, interest and collection costs are owed items (issue 12 item 3, R-D12): the
-- read model's open_amount is everything owed on a receivable; these are the parts of it
-- that are not principal, in contracts' figures, so that a proposal splits a payment by
-- component the way contracts books it (R-P11: costs, then interest and late fee, then
-- principal).
ALTER TABLE open_receivables
    ADD COLUMN costs     NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN interest  NUMERIC(20, 6) NOT NULL DEFAULT 0,
    ADD COLUMN late_fee  NUMERIC(20, 6) NOT NULL DEFAULT 0;
