-- R-D3: notices state the late fee accrued on each overdue item (from contracts, R-C4).
ALTER TABLE case_items ADD COLUMN late_fee NUMERIC(20, 6) NOT NULL DEFAULT 0;
