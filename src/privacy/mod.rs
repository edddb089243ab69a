//! Privacy: the input gate (direct identifiers) and the output gate (disclosure control).

pub mod disclosure;
pub mod identifiers;
pub mod suppression;
