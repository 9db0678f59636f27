-- Issue 16: a payment counts as reconciled when no open exception waits on it (R-P7,
-- store::payments::stamp_reconciled), and the desk and refunds look up a payment's open
-- exceptions. Without an index led by the payment each of those read every open exception:
-- the stamp of a run of confirmations cost 21 ms with a few hundred open (pg_stat_statements,
-- `devstack load`), and it grows with the exception queue.
CREATE INDEX exceptions_open_by_payment ON exceptions (payment_id) WHERE resolved_at IS NULL;
