-- R-L3, R-L8: a checkpoint (version 2) also signs the Merkle root over the chain hashes of every
-- entry it covers, so one debtor's entries can be proved against it offline without anyone
-- else's. Checkpoints made before have none (version 1) and keep verifying as they were.
ALTER TABLE contact_log_checkpoints
    ADD COLUMN tree_root BYTEA CHECK (tree_root IS NULL OR octet_length(tree_root) = 32);
