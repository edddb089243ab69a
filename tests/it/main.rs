//! One integration-test binary (it compiles and links once), a module per area.

mod privacy;
