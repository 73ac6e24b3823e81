//! Which interface, source address and next hop reach a target: the kernel's own routing
//! decision (read without sending anything: a connected UDP socket reveals the source it
//! would use), the main table from /proc/net/route for the interface and gateway, and the
//! interface's hardware address and link type from /sys/class/net.

use crate::error::{Error, Result};
use pnet_base::MacAddr;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub iface: String,
    pub source: Ipv4Addr,
    /// The router to hand frames to; None when the target is on the link.
    pub gateway: Option<Ipv4Addr>,
    /// True for the loopback device: frames need no real hardware addresses.
    pub loopback: bool,
    pub src_mac: MacAddr,
}

/// One line of /proc/net/route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    pub iface: String,
    pub dest: u32,
    pub mask: u32,
    pub gateway: Option<Ipv4Addr>,
    pub metric: u32,
}

/// Parses /proc/net/route's text (addresses are little-endian hex there).
pub fn parse_route_table(text: &str) -> Vec<TableEntry> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::from_be);
        let (Some(dest), Some(gw), Some(flags), Some(mask)) = (hex(f[1]), hex(f[2]), u16::from_str_radix(f[3], 16).ok(), hex(f[7])) else {
            continue;
        };
        const RTF_UP: u16 = 0x1;
        const RTF_GATEWAY: u16 = 0x2;
        if flags & RTF_UP == 0 {
            continue;
        }
        let gateway = (flags & RTF_GATEWAY != 0).then(|| Ipv4Addr::from(gw));
        out.push(TableEntry { iface: f[0].to_string(), dest, mask, gateway, metric: f[6].parse().unwrap_or(0) });
    }
    out
}

/// The longest-prefix match for `dst` (lowest metric among equals).
pub fn lookup(table: &[TableEntry], dst: Ipv4Addr) -> Option<&TableEntry> {
    let d = u32::from(dst);
    table
        .iter()
        .filter(|e| d & e.mask == e.dest & e.mask)
        .max_by(|a, b| a.mask.count_ones().cmp(&b.mask.count_ones()).then(b.metric.cmp(&a.metric)))
}

/// The source address the kernel would use towards `dst` (no packet is sent).
fn kernel_source(dst: Ipv4Addr) -> Result<Ipv4Addr> {
    let s = UdpSocket::bind("0.0.0.0:0").map_err(|e| Error::io("opening a UDP socket", e))?;
    s.connect(SocketAddrV4::new(dst, 9)).map_err(|e| match e.raw_os_error() {
        Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) => Error::Route(format!("no route to {dst}")),
        _ => Error::io(format!("finding a route to {dst}"), e),
    })?;
    match s.local_addr().map_err(|e| Error::io("reading the source address", e))? {
        std::net::SocketAddr::V4(a) => Ok(*a.ip()),
        std::net::SocketAddr::V6(_) => Err(Error::Route(format!("no IPv4 source address towards {dst}"))),
    }
}

/// Every IPv4 address of this host, with its interface.
pub fn local_addresses() -> Result<Vec<(String, Ipv4Addr)>> {
    let mut out = Vec::new();
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills ifap with a list we free below
    if unsafe { libc::getifaddrs(&mut ifap) } != 0 {
        return Err(Error::io("listing interfaces", io::Error::last_os_error()));
    }
    let mut p = ifap;
    while !p.is_null() {
        // SAFETY: p walks the list getifaddrs returned; each node is valid until freeifaddrs
        let ifa = unsafe { &*p };
        if !ifa.ifa_addr.is_null() && unsafe { (*ifa.ifa_addr).sa_family } as i32 == libc::AF_INET {
            // SAFETY: the family says this is a sockaddr_in
            let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
            let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }.to_string_lossy().into_owned();
            out.push((name, Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))));
        }
        p = ifa.ifa_next;
    }
    // SAFETY: ifap came from getifaddrs
    unsafe { libc::freeifaddrs(ifap) };
    Ok(out)
}

fn sys_class(iface: &str, file: &str) -> Result<String> {
    std::fs::read_to_string(format!("/sys/class/net/{iface}/{file}"))
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::io(format!("reading {file} of interface {iface}"), e))
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<MacAddr> {
    let b: Vec<u8> = s.split(':').map(|x| u8::from_str_radix(x, 16)).collect::<std::result::Result<_, _>>().ok()?;
    (b.len() == 6).then(|| MacAddr::new(b[0], b[1], b[2], b[3], b[4], b[5]))
}

/// Decides how to reach `dst`, honouring a chosen interface and source address.
pub fn route_to(dst: Ipv4Addr, iface: Option<&str>, source: Option<Ipv4Addr>) -> Result<Route> {
    let locals = local_addresses()?;
    let is_local = dst.is_loopback() || locals.iter().any(|(_, a)| *a == dst);
    let src = match source {
        Some(s) => s,
        None => kernel_source(dst)?,
    };
    let table = parse_route_table(&std::fs::read_to_string("/proc/net/route").unwrap_or_default());
    let (name, gateway) = match iface {
        Some(i) => (i.to_string(), lookup(&table, dst).filter(|e| e.iface == i).and_then(|e| e.gateway)),
        None if is_local => ("lo".to_string(), None),
        None => match lookup(&table, dst) {
            Some(e) => (e.iface.clone(), e.gateway),
            // policy routing outside the main table: the interface that holds the source
            None => match locals.iter().find(|(_, a)| *a == src) {
                Some((n, _)) => (n.clone(), None),
                None => return Err(Error::Route(format!("no route to {dst}"))),
            },
        },
    };
    let kind: u32 = sys_class(&name, "type")?.parse().unwrap_or(0);
    const ARPHRD_ETHER: u32 = 1;
    const ARPHRD_LOOPBACK: u32 = 772;
    let loopback = match kind {
        ARPHRD_LOOPBACK => true,
        ARPHRD_ETHER => false,
        other => return Err(Error::Route(format!("interface {name} is not Ethernet or loopback (link type {other}); not supported yet"))),
    };
    let src_mac = if loopback {
        MacAddr::zero()
    } else {
        parse_mac(&sys_class(&name, "address")?).ok_or_else(|| Error::Route(format!("interface {name} has no hardware address")))?
    };
    Ok(Route { iface: name, source: src, gateway, loopback, src_mac })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
veth0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
veth0\t000013C6\t020012C6\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0
veth1\t000013C6\t00000000\t0001\t0\t0\t5\t00FFFFFF\t0\t0\t0
down0\t000014C6\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0
";

    #[test]
    fn parses_and_matches_the_longest_prefix() {
        let t = parse_route_table(TABLE);
        assert_eq!(t.len(), 3, "the route that is not up is dropped");
        assert_eq!(
            t[0],
            TableEntry {
                iface: "veth0".into(),
                dest: u32::from(Ipv4Addr::new(198, 18, 0, 0)),
                mask: 0xffff_ff00,
                gateway: None,
                metric: 0
            }
        );
        assert_eq!(t[1].gateway, Some(Ipv4Addr::new(198, 18, 0, 2)));
        let r = lookup(&t, Ipv4Addr::new(198, 18, 0, 9)).unwrap();
        assert_eq!((r.iface.as_str(), r.gateway), ("veth0", None));
        let r = lookup(&t, Ipv4Addr::new(198, 19, 0, 9)).unwrap();
        assert_eq!((r.iface.as_str(), r.gateway), ("veth1", None), "/24 beats /16");
        let r = lookup(&t, Ipv4Addr::new(198, 19, 7, 9)).unwrap();
        assert_eq!(r.gateway, Some(Ipv4Addr::new(198, 18, 0, 2)));
        assert!(lookup(&t, Ipv4Addr::new(198, 20, 0, 1)).is_none());
    }

    #[test]
    fn loopback_routes_through_lo() {
        let r = route_to(Ipv4Addr::LOCALHOST, None, None).unwrap();
        assert_eq!(r.iface, "lo");
        assert!(r.loopback);
        assert_eq!(r.source, Ipv4Addr::LOCALHOST);
    }

    #[test]
    fn reads_hardware_addresses() {
        assert_eq!(parse_mac("02:00:0a:ff:00:01"), Some(MacAddr::new(2, 0, 10, 255, 0, 1)));
        assert_eq!(parse_mac("02:00"), None);
        assert_eq!(parse_mac("zz:00:00:00:00:00"), None);
    }
}
