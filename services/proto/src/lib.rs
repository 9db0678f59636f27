//! Generated code for the collection platform's gRPC APIs and Kafka event payloads.
//!
//! The sources are the `.proto` files under the workspace's `proto/` folder; this crate is
//! the only place they are compiled, so every service and tool shares one definition.
#![allow(unreachable_pub, missing_docs, clippy::all)]

/// Encoded `FileDescriptorSet` of every proto file, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("collections_descriptor");

/// Shared value types.
pub mod types {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.types.v1");
    }
}

/// The event envelope and every event payload.
pub mod events {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.events.v1");
    }
}

/// Contracts service API.
pub mod contracts {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.contracts.v1");
    }
}

/// Payments service API.
pub mod payments {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.payments.v1");
    }
}

/// Scoring service API.
pub mod scoring {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.scoring.v1");
    }
}

/// Dunning service API.
pub mod dunning {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.dunning.v1");
    }
}

/// Legal service API.
pub mod legal {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.legal.v1");
    }
}

/// Reporting service API (R-O1, R-O2).
pub mod reporting {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.reporting.v1");
    }
}

/// The audit trail every service serves (R-O3).
pub mod audit {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.audit.v1");
    }
}

/// The dead letters every service serves: list, show, redrive, discard.
pub mod deadletters {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("receivables.deadletters.v1");
    }
}
