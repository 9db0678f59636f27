//! The dunning service's SQL, named by intent. (The older statements still live in
//! `handler.rs` and `lib.rs`.)

pub mod contact_log;
