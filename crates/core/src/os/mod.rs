//! OS detection (-O) as nmap's second-generation IPv4 engine does it: the probes, the tests
//! computed from their answers, the fingerprint in nmap's format, and matching against
//! nmap's own database read at run time.

pub mod db;
pub mod expr;
pub mod fingerprint;
pub mod matcher;
pub mod p0f;
pub mod prober;
pub mod probes;
pub mod round;
pub mod tests;
pub mod wire;
