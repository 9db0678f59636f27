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

-- `payments.decision` stays for one release, no longer written by this one (NULL in new rows,
-- so they are small) and left as it is in old ones: pods of the release before keep reading
-- and writing it while a rollout runs. This release reads a decision from `payment_decisions`
-- first and from the column second. The next release copies what pods of this one's
-- predecessor wrote during the rollout and drops the column (README "Migrations": add,
-- backfill, then drop a release later). While the rollout runs, a pod of the release before
-- sees no decision on a payment a new pod wrote: a refund of its surplus asked of an old pod
-- is refused as "not applied" until the rollout is done.
