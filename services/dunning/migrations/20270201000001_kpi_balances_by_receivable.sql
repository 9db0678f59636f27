-- Issue 16: every change of what is owed on a receivable reads that receivable's last
-- balance (store::kpis::changed) and a schedule is appended only once (store::kpis::learned).
-- Without an index led by the receivable both scanned the whole table: 1.2 ms a payment on a
-- portfolio of 5,000 items, growing with the portfolio (measured with pg_stat_statements by
-- `devstack load`).
CREATE INDEX kpi_balances_by_receivable ON kpi_balances (receivable_id, on_date DESC NULLS LAST, seq DESC);
