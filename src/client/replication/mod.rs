//! Logical replication: the changes a `pgoutput` stream carries, decoded into typed values.

mod change_tuple;
mod changes;

pub use change_tuple::*;
pub use changes::*;
