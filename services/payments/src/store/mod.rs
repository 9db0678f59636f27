//! Every SQL statement of the payments service, named by intent, split by concern. Callers
//! pass the connection of their transaction (`&mut PgConnection`), or the pool for reads
//! outside one; rows come back as structs. (Statements not moved here yet still live beside
//! their callers; see the crate documentation.)

mod lines;
mod payments;
mod statements;

pub(crate) use lines::*;
pub(crate) use payments::*;
pub(crate) use statements::*;
