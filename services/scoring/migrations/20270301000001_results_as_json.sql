-- Issue 16: a score's full result is written on every rescore (the current score, and the
-- history when the points or the grade moved) and read back whole by the service, never
-- queried inside. As jsonb each write parsed it into the binary form, which at about 2.3 kB
-- went over the TOAST threshold and was compressed again (pglz); as json it is checked and
-- stored as the text it is (about 1.9 kB, under the threshold). Measured on this machine:
-- 20,000 upserts 1.69 s as jsonb, 0.39 s as json.
ALTER TABLE scores ALTER COLUMN result TYPE json USING result::json;
ALTER TABLE score_history ALTER COLUMN result TYPE json USING result::json;
