-- Amendments (R-C8): an item a supervisor deferred past the business date is not overdue any
-- more ('deferred'; dunned again if it falls overdue under its new due date), and one that
-- left the schedule or has nothing open after a discount is closed ('amended'). A case whose
-- items an amendment all closed ends as 'amended'.
ALTER TABLE case_items DROP CONSTRAINT case_items_status_check;
ALTER TABLE case_items ADD CONSTRAINT case_items_status_check
    CHECK (status IN ('open', 'paid', 'escalated', 'deferred', 'amended'));
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('active', 'paid', 'escalated', 'amended'));
