//! The engine's error type: every way a scan can fail to start or fail while running.
//! The binding turns these into JS errors whose message starts with `code()`.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// The process may not open raw packet sockets.
    #[error("raw sockets are not permitted ({0}); run as root or grant CAP_NET_RAW")]
    Permission(String),
    /// The options describe no valid scan.
    #[error("{0}")]
    InvalidOptions(String),
    /// No route, interface or next hop could be found for a target.
    #[error("{0}")]
    Route(String),
    /// Root could not be given up (crate::privilege).
    #[error("{0}")]
    Privilege(String),
    /// A bug: an engine thread panicked. Reported, never propagated as a panic.
    #[error("internal error: {0}")]
    Internal(String),
    /// A system call failed while the scan ran.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A short stable code that the binding puts in front of the message.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Permission(_) => "EPERM",
            Error::InvalidOptions(_) => "EINVAL",
            Error::Route(_) => "EROUTE",
            Error::Io { .. } => "EIO",
            Error::Privilege(_) => "EPRIV",
            Error::Internal(_) => "EINTERNAL",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        let context = context.into();
        match source.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => Error::Permission(format!("{context}: {source}")),
            _ => Error::Io { context, source },
        }
    }
}

/// Turns a caught panic's payload into an error.
pub(crate) fn from_panic(p: Box<dyn std::any::Any + Send>) -> Error {
    let msg =
        p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_else(|| "panic".into());
    Error::Internal(msg)
}

pub type Result<T> = std::result::Result<T, Error>;
