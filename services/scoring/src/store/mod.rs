//! Every SQL statement of the scoring service, named by intent. Functions take the
//! connection (inside the caller's transaction) or the pool.

pub mod features;
pub mod reviews;
pub mod scores;
