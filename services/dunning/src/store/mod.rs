//! The dunning service's SQL, named by intent: the domain, the day's run, the event handler
//! and the API call these; no SQL lives anywhere else in the service.

pub mod cases;
pub mod contact_log;
pub mod contacts;
pub mod disputes;
pub mod kpis;
pub mod ladder;
pub mod plans;
pub mod promises;
pub mod queue;
pub mod retention;
pub mod runs;
#[cfg(test)]
mod testdb;
