-- Customers who got a payer account on file (PayerAccountAdded), for replaying processes.
ALTER TABLE ledger_changes ADD COLUMN accounts UUID[] NOT NULL DEFAULT '{}';
