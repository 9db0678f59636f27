//! The wire's enums for schedule items and the domain's, both ways.

use proto::types::v1 as types;

use proto::contracts::v1 as api;

use crate::domain::billing::{Occupancy, Segment};
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
        types::ScheduleItemKind::Recurring => ItemKind::Recurring,
        types::ScheduleItemKind::Metered => ItemKind::Metered,
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
        ItemKind::Recurring => types::ScheduleItemKind::Recurring,
        ItemKind::Metered => types::ScheduleItemKind::Metered,
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

/// The domain segment of a wire one; `None` for unspecified or unknown (R-C3).
pub(crate) fn segment_from_wire(value: i32) -> Option<Segment> {
    Some(match api::UnitSegment::try_from(value).ok()? {
        api::UnitSegment::Unspecified => return None,
        api::UnitSegment::Residential => Segment::Residential,
        api::UnitSegment::Commercial => Segment::Commercial,
        api::UnitSegment::Villa => Segment::Villa,
        api::UnitSegment::Parking => Segment::Parking,
    })
}

/// The wire segment of a domain one.
pub(crate) fn segment_to_wire(segment: Segment) -> api::UnitSegment {
    match segment {
        Segment::Residential => api::UnitSegment::Residential,
        Segment::Commercial => api::UnitSegment::Commercial,
        Segment::Villa => api::UnitSegment::Villa,
        Segment::Parking => api::UnitSegment::Parking,
    }
}

/// The domain occupancy of a wire one; `None` for unspecified or unknown (R-C3).
pub(crate) fn occupancy_from_wire(value: i32) -> Option<Occupancy> {
    Some(match api::UnitOccupancy::try_from(value).ok()? {
        api::UnitOccupancy::Unspecified => return None,
        api::UnitOccupancy::Vacant => Occupancy::Vacant,
        api::UnitOccupancy::Occupied => Occupancy::Occupied,
    })
}

/// The wire occupancy of a domain one.
pub(crate) fn occupancy_to_wire(occupancy: Occupancy) -> api::UnitOccupancy {
    match occupancy {
        Occupancy::Vacant => api::UnitOccupancy::Vacant,
        Occupancy::Occupied => api::UnitOccupancy::Occupied,
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
            ItemKind::Recurring,
            ItemKind::Metered,
        ] {
            assert_eq!(kind_from_wire(kind_to_wire(kind) as i32), Some(kind));
        }
        for charge in ChargeType::ALL {
            assert_eq!(
                charge_from_wire(charge_to_wire(charge) as i32),
                Some(charge)
            );
        }
        for segment in Segment::ALL {
            assert_eq!(
                segment_from_wire(segment_to_wire(segment) as i32),
                Some(segment)
            );
        }
        for o in [Occupancy::Vacant, Occupancy::Occupied] {
            assert_eq!(occupancy_from_wire(occupancy_to_wire(o) as i32), Some(o));
        }
        assert_eq!(segment_from_wire(0), None);
        assert_eq!(occupancy_from_wire(0), None);
        assert_eq!(kind_from_wire(0), Some(ItemKind::Installment));
        assert_eq!(charge_from_wire(0), Some(ChargeType::PurchasePrice));
        assert_eq!(kind_from_wire(99), None);
        assert_eq!(charge_from_wire(99), None);
    }
}
