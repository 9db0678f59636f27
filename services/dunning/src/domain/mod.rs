//! Pure rules and typed values of the dunning service: no I/O.

pub mod contact_log;
