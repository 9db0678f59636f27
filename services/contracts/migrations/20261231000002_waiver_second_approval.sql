-- A second approval level for waivers (R-D6; issue 14 item 3): above
-- WAIVER_SECOND_APPROVAL_ABOVE a waiver is approved by a second person with the risk role, a
-- third person after the proposer and the first approver.
ALTER TABLE waivers ADD COLUMN second_approval_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE waivers ADD COLUMN first_approved_by TEXT;
ALTER TABLE waivers ADD COLUMN first_approved_at TIMESTAMPTZ;
ALTER TABLE waivers DROP CONSTRAINT IF EXISTS waivers_status_check;
ALTER TABLE waivers ADD CONSTRAINT waivers_status_check
    CHECK (status IN ('proposed', 'first_approved', 'approved', 'rejected'));
ALTER TABLE waivers DROP CONSTRAINT IF EXISTS waivers_check;
ALTER TABLE waivers ADD CONSTRAINT waivers_decided_check
    CHECK ((status IN ('proposed', 'first_approved')) = (decided_by IS NULL));
ALTER TABLE waivers ADD CONSTRAINT waivers_first_approver_check
    CHECK (first_approved_by IS NULL OR first_approved_by <> proposed_by);
ALTER TABLE waivers ADD CONSTRAINT waivers_second_approver_check
    CHECK (first_approved_by IS NULL OR decided_by IS NULL OR status = 'rejected'
           OR decided_by <> first_approved_by);
