-- ListPayments pages by keyset on (created_at, line_no, id) (issue 10).
CREATE INDEX payments_list_order ON payments (created_at, line_no, id);
