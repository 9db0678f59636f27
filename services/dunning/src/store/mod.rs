//! The dunning service's SQL, named by intent. (The event handler's older statements still
//! live in `handler.rs`.)

pub mod cases;
pub mod contact_log;
pub mod contacts;
pub mod ladder;
pub mod retention;
