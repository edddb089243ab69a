//! Exit codes, the contract between this job and the scheduler that runs it (DESIGN §7).
//!
//! Library code returns `anyhow` errors; the few failures a scheduler must tell apart carry
//! a [`JobError`] somewhere in their chain, and [`exit_code`] finds it.

use std::path::PathBuf;

/// What went wrong, in the terms a scheduler acts on.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Bad command line, config file or query file.
    #[error("{0}")]
    Usage(String),
    /// Input data the job refuses: too many rejects, identifiers, nothing to read.
    #[error("{0}")]
    Data(String),
    /// Another run holds the lock on the output folder.
    #[error("another run holds the lock `{}`", .0.display())]
    Locked(PathBuf),
}

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for anything not covered by a more specific code.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for bad input data (sysexits `EX_DATAERR`).
pub const EXIT_DATA: u8 = 65;
/// Exit code when another run holds the lock (sysexits `EX_TEMPFAIL`: retry later).
pub const EXIT_LOCKED: u8 = 75;

/// Maps an error chain to the exit code of DESIGN §7.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(job) = cause.downcast_ref::<JobError>() {
            return match job {
                JobError::Usage(_) => EXIT_USAGE,
                JobError::Data(_) => EXIT_DATA,
                JobError::Locked(_) => EXIT_LOCKED,
            };
        }
    }
    EXIT_FAILURE
}

/// Shorthand for a usage error.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    JobError::Usage(message.into()).into()
}

/// Shorthand for a data error.
pub fn data(message: impl Into<String>) -> anyhow::Error {
    JobError::Data(message.into()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn code_found_through_context() {
        let error = Err::<(), _>(data("too many rejects"))
            .context("reading input")
            .unwrap_err();
        assert_eq!(exit_code(&error), EXIT_DATA);
        assert_eq!(exit_code(&usage("bad flag")), EXIT_USAGE);
        let locked: anyhow::Error = JobError::Locked(PathBuf::from("reports/.lock")).into();
        assert_eq!(exit_code(&locked), EXIT_LOCKED);
        assert_eq!(exit_code(&anyhow::anyhow!("disk full")), EXIT_FAILURE);
    }
}
