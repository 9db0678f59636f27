-- Issue 16: a score's result (about 2 kB of JSON) still takes its row over the TOAST
-- threshold (2 kB a row, not a value), so every rescore compressed it with pglz, which showed
-- in a profile of the load harness. lz4 compresses to about the same size at about half the
-- write time (20,000 upserts of 2.2 kB json measured on this machine: 866 ms pglz, 481 ms lz4;
-- kept inline, uncompressed: 542 ms and twice the pages). Values written before keep pglz
-- until rewritten; both read back the same. Needs a server built with lz4 (PostgreSQL ≥ 14,
-- as Debian's and CloudNativePG's are).
ALTER TABLE scores ALTER COLUMN result SET COMPRESSION lz4;
ALTER TABLE score_history ALTER COLUMN result SET COMPRESSION lz4;
