-- R-S5: scoring's advice (grade C or worse, or a severe default) places a credit hold, and a
-- later grade that does not advise one releases it: one active scoring hold per customer.
ALTER TABLE credit_holds DROP CONSTRAINT credit_holds_source_check;
ALTER TABLE credit_holds ADD CONSTRAINT credit_holds_source_check
    CHECK (source IN ('legal_case', 'overdue', 'supervisor', 'scoring'));
CREATE UNIQUE INDEX credit_holds_one_scoring ON credit_holds (customer_id)
    WHERE source = 'scoring' AND released_at IS NULL;
