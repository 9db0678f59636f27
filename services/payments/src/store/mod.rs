//! Every SQL statement of the payments service, named by intent, split by concern. Callers
//! pass the connection of their transaction (`&mut PgConnection`), or the pool for reads
//! outside one; rows come back as structs. No other module writes SQL; status and kind texts are
//! bound from the `domain` enums, not written into the statements.

mod allocations;
mod desk;
mod exceptions;
mod files;
mod ledger;
mod lines;
mod payments;
mod receivables;
mod refunds;
mod statements;

pub(crate) use allocations::*;
pub(crate) use desk::*;
pub(crate) use exceptions::*;
pub(crate) use files::*;
pub(crate) use ledger::*;
pub(crate) use lines::*;
pub(crate) use payments::*;
pub(crate) use receivables::*;
pub(crate) use refunds::*;
pub(crate) use statements::*;
