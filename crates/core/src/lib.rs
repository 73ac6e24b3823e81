//! ferroscan-core: the scan engine. Crafts raw probes from a template, sends them in a
//! seeded random order at a limited rate, validates replies statelessly with a keyed
//! cookie, and hands out packed records. Knows nothing of Node or napi.

pub mod addr;
pub mod congestion;
pub mod connect;
pub mod cookie;
pub mod error;
pub mod net;
pub mod os;
pub mod pace;
pub mod packet;
pub mod pcap;
pub mod permute;
pub mod privilege;
pub mod ramp;
pub mod rate;
pub mod record;
pub mod scan;
pub mod service;
pub mod space;
pub mod technique;
pub mod timing;
mod window;

pub use addr::Family;
pub use error::{Error, Result};
pub use record::{Record, RecordKind, RECORD_LAYOUT_VERSION, RECORD_SIZE};
pub use scan::{Scan, ScanConfig, ScanEvent, ScanInfo, ScanStats};
pub use technique::Technique;
