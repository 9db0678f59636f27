//! Every SQL statement of the payments service, named by intent, split by concern. Callers
//! pass the connection of their transaction (`&mut PgConnection`), or the pool for reads
//! outside one; rows come back as structs. No other module writes SQL; status and kind texts are
//! bound from the `domain` enums, not written into the statements.

/// The decision (json) of the payment aliased `p`: from `payment_decisions`, or from the row
/// when a pod of the release before wrote it there during a rollout (payments migration
/// `20270302000001`). The next release drops `payments.decision` and this fallback with it.
macro_rules! decision_of_p {
    () => {
        "COALESCE((SELECT x.decision FROM payment_decisions x WHERE x.payment_id = p.id), p.decision::json)"
    };
}

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
