-- An agreed order of settling the components of each debt (R-P11; art. 561 applies unless
-- the parties agree another): money::allocation::Order as JSON; NULL: the law's order.
ALTER TABLE contracts ADD COLUMN allocation_order JSONB;
