//! Service and version detection (`-sV`), as nmap 7.93 does it: nmap's probe database
//! read at run time (`db`), its patterns compiled by PCRE2 (`pattern`) behind a literal
//! prefilter (`prefilter`), its version templates (`template`), its probe order
//! (`plan`), its per-port state machine (`session`), its SF fingerprints
//! (`fingerprint`); and a prober on tokio (`prober`) that runs a port's probes in
//! parallel connections while the session resolves them in nmap's order.
//!
//! ```no_run
//! use ferroscan_core::service::{self, Db, Job, Options, Proto};
//! use std::sync::{atomic::AtomicBool, Arc};
//! let db = Arc::new(Db::load(std::path::Path::new(service::DEFAULT_DB)).unwrap());
//! let jobs = [Job { addr: "127.0.0.1".parse().unwrap(), port: 22, proto: Proto::Tcp }];
//! service::detect(db, &jobs, &Options::default(), Arc::new(AtomicBool::new(false)), &mut |i, r| {
//!     println!("{i}: {:?} {:?} {:?}", r.name, r.product, r.version);
//! }).unwrap();
//! ```

pub mod db;
pub mod escape;
pub mod fingerprint;
pub mod pattern;
pub mod plan;
pub mod prefilter;
pub mod prober;
pub mod scripts;
pub mod session;
pub mod template;

pub use db::{Db, DbError, Proto};
pub use prober::{detect, Job, Options};
pub use session::{ProbeState, ServiceResult};

/// Where Debian's nmap-common installs the probe database.
pub const DEFAULT_DB: &str = "/usr/share/nmap/nmap-service-probes";

/// The one-line error when the database is missing: which package provides it.
pub fn missing_db_message(path: &str) -> String {
    format!("-sV needs nmap's service probe database, which is not at {path}: install it (Debian/Ubuntu: apt-get install nmap-common) or name a copy with --versiondb FILE")
}
