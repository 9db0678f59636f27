-- R-C1: every schedule item has a kind and a charge type; milestones may be a share of the
-- contract's price, which a contract may state.
ALTER TABLE contracts ADD COLUMN price NUMERIC(20, 6) CHECK (price > 0);
ALTER TABLE receivables
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'installment'
        CHECK (kind IN ('deposit', 'down_payment', 'installment', 'final_payment', 'milestone')),
    ADD COLUMN charge_type TEXT NOT NULL DEFAULT 'purchase_price'
        CHECK (charge_type IN ('purchase_price', 'management_fee', 'maintenance_fund', 'water',
                               'electricity', 'gas')),
    ADD COLUMN share NUMERIC(9, 8) CHECK (share > 0 AND share <= 1);
