-- The order of components a contract agreed (R-P11), from ContractSigned: payments proposes
-- with it as contracts books with it. No row: the law's order (art. 561).
CREATE TABLE contract_allocation_orders (
    contract_id       UUID PRIMARY KEY,
    allocation_order  JSONB NOT NULL
);
