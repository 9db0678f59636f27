//! Dunning's pure rules and typed values: no database, no network, no clock (ARCHITECTURE.md).

// The domain is held to documented public items and no panics on inputs.
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod conduct;
pub mod contact_log;
pub mod dispute;
pub mod kpi;
pub mod log_proof;
pub mod log_tree;
pub mod plan;
pub mod promise;
pub mod queue;
