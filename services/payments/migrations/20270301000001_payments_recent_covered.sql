-- Issue 16: payments_list_order (created_at, line_no, id) serves every lookup by created_at;
-- this index was one more entry to write for every payment.
DROP INDEX IF EXISTS payments_recent;
