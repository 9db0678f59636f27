//! Pure rules of the payments service: no sqlx, tonic or rdkafka.

pub(crate) mod book_to_bank;
pub(crate) mod desk;
pub(crate) mod refund;
pub(crate) mod repeats;
pub(crate) mod settlement;
pub(crate) mod status;
