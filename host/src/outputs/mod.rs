//! Alert formatting (and, later, the output channels).

pub mod format;
