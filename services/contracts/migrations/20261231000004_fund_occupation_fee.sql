-- R-C10: the fund-occupation fee of a commercial acceptance bill over 90 days, booked by event
-- from payments like a collection cost but owed as interest.
ALTER TABLE collection_costs DROP CONSTRAINT collection_costs_kind_check;
ALTER TABLE collection_costs ADD CONSTRAINT collection_costs_kind_check
    CHECK (kind IN ('notice_fee', 'lawyer_fee', 'court_fee', 'preservation_fee', 'other_legal_cost',
                    'fund_occupation_fee'));
