//! The wire's enums for schedule items and the domain's, both ways.

use proto::types::v1 as types;

use crate::domain::schedule::{ChargeType, ItemKind};

/// The domain kind of a wire kind (unspecified: an installment); `None` for a number the
/// proto does not define.
pub(crate) fn kind_from_wire(value: i32) -> Option<ItemKind> {
    Some(match types::ScheduleItemKind::try_from(value).ok()? {
        types::ScheduleItemKind::Unspecified | types::ScheduleItemKind::Installment => {
            ItemKind::Installment
        }
        types::ScheduleItemKind::Deposit => ItemKind::Deposit,
        types::ScheduleItemKind::DownPayment => ItemKind::DownPayment,
        types::ScheduleItemKind::FinalPayment => ItemKind::FinalPayment,
        types::ScheduleItemKind::Milestone => ItemKind::Milestone,
    })
}

/// The wire kind of a domain kind.
pub(crate) fn kind_to_wire(kind: ItemKind) -> types::ScheduleItemKind {
    match kind {
        ItemKind::Deposit => types::ScheduleItemKind::Deposit,
        ItemKind::DownPayment => types::ScheduleItemKind::DownPayment,
        ItemKind::Installment => types::ScheduleItemKind::Installment,
        ItemKind::FinalPayment => types::ScheduleItemKind::FinalPayment,
        ItemKind::Milestone => types::ScheduleItemKind::Milestone,
    }
}

/// The domain charge type of a wire one (unspecified: the purchase price); `None` for a
/// number the proto does not define.
pub(crate) fn charge_from_wire(value: i32) -> Option<ChargeType> {
    Some(match types::ChargeType::try_from(value).ok()? {
        types::ChargeType::Unspecified | types::ChargeType::PurchasePrice => {
            ChargeType::PurchasePrice
        }
        types::ChargeType::ManagementFee => ChargeType::ManagementFee,
        types::ChargeType::MaintenanceFund => ChargeType::MaintenanceFund,
        types::ChargeType::Water => ChargeType::Water,
        types::ChargeType::Electricity => ChargeType::Electricity,
        types::ChargeType::Gas => ChargeType::Gas,
    })
}

/// The wire charge type of a domain one.
pub(crate) fn charge_to_wire(charge: ChargeType) -> types::ChargeType {
    match charge {
        ChargeType::PurchasePrice => types::ChargeType::PurchasePrice,
        ChargeType::ManagementFee => types::ChargeType::ManagementFee,
        ChargeType::MaintenanceFund => types::ChargeType::MaintenanceFund,
        ChargeType::Water => types::ChargeType::Water,
        ChargeType::Electricity => types::ChargeType::Electricity,
        ChargeType::Gas => types::ChargeType::Gas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_charge_type_round_trips_and_unspecified_has_a_meaning() {
        for kind in [
            ItemKind::Deposit,
            ItemKind::DownPayment,
            ItemKind::Installment,
            ItemKind::FinalPayment,
            ItemKind::Milestone,
        ] {
            assert_eq!(kind_from_wire(kind_to_wire(kind) as i32), Some(kind));
        }
        for charge in ChargeType::ALL {
            assert_eq!(
                charge_from_wire(charge_to_wire(charge) as i32),
                Some(charge)
            );
        }
        assert_eq!(kind_from_wire(0), Some(ItemKind::Installment));
        assert_eq!(charge_from_wire(0), Some(ChargeType::PurchasePrice));
        assert_eq!(kind_from_wire(99), None);
        assert_eq!(charge_from_wire(99), None);
    }
}
