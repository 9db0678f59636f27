-- Upheld disputes (R-D8) end in a credit (principal) or a waiver (late fee, interest, costs),
-- proposed in the resolver's name and approved by another person like any waiver (R-D6).
-- A credit is effective from the item's due date: no late fee accrues on what was credited.
ALTER TABLE waivers ADD COLUMN dispute_id UUID;
ALTER TABLE waivers ADD COLUMN effective_on DATE;
ALTER TABLE waivers DROP CONSTRAINT IF EXISTS waivers_component_check;
ALTER TABLE waivers ADD CONSTRAINT waivers_component_check CHECK (
    component IN ('costs', 'interest', 'late_fee')
    OR (component = 'principal' AND dispute_id IS NOT NULL AND effective_on IS NOT NULL));
-- One proposal per dispute, item and component: a repeated event proposes nothing new.
CREATE UNIQUE INDEX waivers_one_per_dispute_line ON waivers (dispute_id, receivable_id, component)
    WHERE dispute_id IS NOT NULL;
