-- ListCases pages by keyset on (opened_on, id) (issue 10).
CREATE INDEX cases_list_order ON cases (opened_on, id);
