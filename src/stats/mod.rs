//! Statistics the reports publish, each checked against an independent peer (DESIGN §5).

pub mod km;
pub mod normal;
pub mod ratio;
pub mod wilson;
