//! Legal's pure rules and typed values: no database, no network, no clock (ARCHITECTURE.md).

// The domain is held to documented public items and no panics on inputs.
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod case;
pub mod claim;
pub mod fees;
pub mod limitation;
