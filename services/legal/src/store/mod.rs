//! Every SQL statement of the legal service, named by intent (ARCHITECTURE.md).

pub mod balances;
pub mod cases;
pub mod costs;
pub mod disputes;
pub mod limitation;
pub mod steps;
