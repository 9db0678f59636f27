-- The engine's decision about a payment, beside the payment rather than in its row (issue 16).
-- The decision (1–2 kB of JSON) is written once and read whole (audit, the listing's FX, a
-- refund's surplus); the payment row is updated when contracts confirm it, and that update
-- cannot be HOT (it moves the row out of `payments_unreconciled`), so every confirmation
-- copied the decision into a new row version, new pages and the WAL. `json`, not `jsonb`:
-- nothing queries inside it by index, and the text is kept as the engine wrote it.
--
-- No foreign key: the decision is inserted by the same statement as its payment (or by the
-- transaction that decides it), payments are never deleted, and a key check would lock the
-- payment row once more (a WAL record per payment).
CREATE TABLE payment_decisions (
    payment_id UUID PRIMARY KEY,
    decision   JSON NOT NULL
);

INSERT INTO payment_decisions (payment_id, decision)
SELECT id, decision::json FROM payments WHERE decision IS NOT NULL;

ALTER TABLE payments DROP COLUMN decision;
