//! A pcap (libpcap 2.4, Ethernet link type) writer for the frames a scan sends, so that
//! `--dry-run --pcap FILE` shows exactly what would leave, readable by tcpdump and Wireshark.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::SystemTime;

pub struct PcapWriter {
    out: BufWriter<File>,
}

const MAGIC: u32 = 0xa1b2_c3d4;
const LINKTYPE_ETHERNET: u32 = 1;
const SNAPLEN: u32 = 65_535;

impl PcapWriter {
    pub fn create(path: &Path) -> Result<Self> {
        let f = File::create(path).map_err(|e| Error::InvalidOptions(format!("cannot write {}: {e}", path.display())))?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&SNAPLEN.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h).map_err(|e| Error::io("writing the pcap header", e))?;
        Ok(Self { out })
    }

    pub fn write(&mut self, frame: &[u8]) -> Result<()> {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(now.as_secs() as u32).to_le_bytes());
        h[4..8].copy_from_slice(&now.subsec_micros().to_le_bytes());
        h[8..12].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        self.out.write_all(&h).and_then(|_| self.out.write_all(frame)).map_err(|e| Error::io("writing the pcap file", e))
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io("writing the pcap file", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_header_and_records() {
        let path = std::env::temp_dir().join(format!("ferroscan-pcap-test-{}.pcap", std::process::id()));
        {
            let mut w = PcapWriter::create(&path).unwrap();
            w.write(&[1, 2, 3]).unwrap();
            w.write(&[4; 60]).unwrap();
            w.flush().unwrap();
        }
        let b = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(b.len(), 24 + 16 + 3 + 16 + 60);
        assert_eq!(&b[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&b[20..24], &[1, 0, 0, 0]);
        assert_eq!(&b[24 + 8..24 + 16], &[3, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&b[24 + 16..24 + 19], &[1, 2, 3]);
    }
}
