-- Who resolved an exception by hand (R-P5: a person confirms or closes it).
ALTER TABLE exceptions ADD COLUMN resolved_by TEXT;
