//! Which interface, source address and next hop reach a target: the kernel's own routing
//! decision (read without sending anything: a connected UDP socket reveals the source it
//! would use), the kernel's tables for the interface and gateway (/proc/net/route for IPv4,
//! /proc/net/ipv6_route for IPv6), and the interface's hardware address and link type from
//! /sys/class/net.

use crate::error::{Error, Result};
use pnet_base::MacAddr;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub iface: String,
    /// Of the target's family.
    pub source: IpAddr,
    /// The router to hand frames to; None when the target is on the link.
    pub gateway: Option<IpAddr>,
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

/// One line of /proc/net/ipv6_route (main and local tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table6Entry {
    pub iface: String,
    pub dest: u128,
    pub prefix: u32,
    pub gateway: Option<Ipv6Addr>,
    pub metric: u32,
}

/// Parses /proc/net/ipv6_route's text: addresses as 32 hex digits, prefix lengths, metric
/// and flags in hex. Routes that are down or reject traffic (the null entry, `unreachable`,
/// `prohibit`) are left out: nothing can be sent through them.
pub fn parse_route6_table(text: &str) -> Vec<Table6Entry> {
    const RTF_UP: u32 = 0x1;
    const RTF_GATEWAY: u32 = 0x2;
    const RTF_REJECT: u32 = 0x200;
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let (Ok(dest), Ok(prefix), Ok(gw), Ok(metric), Ok(flags)) = (
            u128::from_str_radix(f[0], 16),
            u32::from_str_radix(f[1], 16),
            u128::from_str_radix(f[4], 16),
            u32::from_str_radix(f[5], 16),
            u32::from_str_radix(f[8], 16),
        ) else {
            continue;
        };
        if flags & RTF_UP == 0 || flags & RTF_REJECT != 0 || prefix > 128 {
            continue;
        }
        let gateway = (flags & RTF_GATEWAY != 0 && gw != 0).then(|| Ipv6Addr::from(gw));
        out.push(Table6Entry { iface: f[9].to_string(), dest, prefix, gateway, metric });
    }
    out
}

/// The longest-prefix match for `dst` (lowest metric among equals), multicast and local
/// routes aside: the routes a unicast probe from this host leaves by.
pub fn lookup6(table: &[Table6Entry], dst: Ipv6Addr) -> Option<&Table6Entry> {
    let d = u128::from(dst);
    let mask = |p: u32| if p == 0 { 0 } else { u128::MAX << (128 - p) };
    table
        .iter()
        .filter(|e| d & mask(e.prefix) == e.dest & mask(e.prefix) && e.iface != "lo")
        .max_by(|a, b| a.prefix.cmp(&b.prefix).then(b.metric.cmp(&a.metric)))
}

/// The source address the kernel would use towards `dst` (no packet is sent); a link-local
/// `dst` needs the interface's index (`scope`).
fn kernel_source(dst: IpAddr, scope: u32) -> Result<IpAddr> {
    let (bind, to) = match dst {
        IpAddr::V4(a) => ("0.0.0.0:0", SocketAddr::V4(SocketAddrV4::new(a, 9))),
        IpAddr::V6(a) => ("[::]:0", SocketAddr::V6(SocketAddrV6::new(a, 9, 0, scope))),
    };
    let s = UdpSocket::bind(bind).map_err(|e| Error::io("opening a UDP socket", e))?;
    s.connect(to).map_err(|e| match e.raw_os_error() {
        Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) => Error::Route(format!("no route to {dst}")),
        Some(libc::EINVAL) if is_link_local(dst) => {
            Error::Route(format!("{dst} is a link-local address: name its interface ({dst}%IFACE, or -e IFACE)"))
        }
        _ => Error::io(format!("finding a route to {dst}"), e),
    })?;
    let src = s.local_addr().map_err(|e| Error::io("reading the source address", e))?.ip();
    if src.is_ipv4() != dst.is_ipv4() {
        return Err(Error::Route(format!("no source address of {dst}'s family")));
    }
    Ok(src)
}

/// fe80::/10.
pub fn is_link_local(a: IpAddr) -> bool {
    matches!(a, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80)
}

/// Every IPv6 address of this host, with its interface.
pub fn local_addresses6() -> Result<Vec<(String, Ipv6Addr)>> {
    let mut out = Vec::new();
    for_each_ifaddr(|name, sa| {
        // SAFETY: the family (checked by the caller) says this is a sockaddr_in6
        if unsafe { (*sa).sa_family } as i32 == libc::AF_INET6 {
            let sin6 = unsafe { &*(sa as *const libc::sockaddr_in6) };
            out.push((name.to_string(), Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
        }
    })?;
    Ok(out)
}

/// Calls `f` with every interface address getifaddrs lists (interface name, non-null address).
fn for_each_ifaddr(mut f: impl FnMut(&str, *const libc::sockaddr)) -> Result<()> {
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills ifap with a list we free below
    if unsafe { libc::getifaddrs(&mut ifap) } != 0 {
        return Err(Error::io("listing interfaces", io::Error::last_os_error()));
    }
    let mut p = ifap;
    while !p.is_null() {
        // SAFETY: p walks the list getifaddrs returned; each node is valid until freeifaddrs
        let ifa = unsafe { &*p };
        if !ifa.ifa_addr.is_null() {
            let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }.to_string_lossy().into_owned();
            f(&name, ifa.ifa_addr);
        }
        p = ifa.ifa_next;
    }
    // SAFETY: ifap came from getifaddrs
    unsafe { libc::freeifaddrs(ifap) };
    Ok(())
}

/// Every IPv4 address of this host, with its interface.
pub fn local_addresses() -> Result<Vec<(String, Ipv4Addr)>> {
    let mut out = Vec::new();
    for_each_ifaddr(|name, sa| {
        // SAFETY: the family says this is a sockaddr_in
        if unsafe { (*sa).sa_family } as i32 == libc::AF_INET {
            let sin = unsafe { &*(sa as *const libc::sockaddr_in) };
            out.push((name.to_string(), Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))));
        }
    })?;
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

/// The interface and gateway the IPv6 tables give `dst` (the interface named, if one is).
fn table6_hop(dst: Ipv6Addr, iface: Option<&str>, src: Ipv6Addr, locals: &[(String, Ipv6Addr)]) -> Result<(String, Option<IpAddr>)> {
    let table = parse_route6_table(&std::fs::read_to_string("/proc/net/ipv6_route").unwrap_or_default());
    let hit = lookup6(&table, dst);
    Ok(match iface {
        Some(i) => (i.to_string(), hit.filter(|e| e.iface == i).and_then(|e| e.gateway).map(IpAddr::V6)),
        None => match hit {
            Some(e) => (e.iface.clone(), e.gateway.map(IpAddr::V6)),
            None => match locals.iter().find(|(_, a)| *a == src) {
                Some((n, _)) => (n.clone(), None),
                None => return Err(Error::Route(format!("no route to {dst}"))),
            },
        },
    })
}

/// Decides how to reach `dst`, honouring a chosen interface and source address.
pub fn route_to(dst: impl Into<IpAddr>, iface: Option<&str>, source: Option<IpAddr>) -> Result<Route> {
    let dst = dst.into();
    if let Some(s) = source.filter(|s| s.is_ipv4() != dst.is_ipv4()) {
        return Err(Error::InvalidOptions(format!("source address {s} is not of the targets' family ({dst})")));
    }
    let scope = match iface {
        Some(i) if is_link_local(dst) => super::socket::ifindex(i)? as u32,
        _ => 0,
    };
    let src = match source {
        Some(s) => s,
        None => kernel_source(dst, scope)?,
    };
    let (name, gateway) = match dst {
        IpAddr::V4(d) => {
            let locals = local_addresses()?;
            let is_local = d.is_loopback() || locals.iter().any(|(_, a)| *a == d);
            let table = parse_route_table(&std::fs::read_to_string("/proc/net/route").unwrap_or_default());
            match iface {
                Some(i) => (i.to_string(), lookup(&table, d).filter(|e| e.iface == i).and_then(|e| e.gateway).map(IpAddr::V4)),
                None if is_local => ("lo".to_string(), None),
                None => match lookup(&table, d) {
                    Some(e) => (e.iface.clone(), e.gateway.map(IpAddr::V4)),
                    // policy routing outside the main table: the interface that holds the source
                    None => match locals.iter().find(|(_, a)| IpAddr::V4(*a) == src) {
                        Some((n, _)) => (n.clone(), None),
                        None => return Err(Error::Route(format!("no route to {dst}"))),
                    },
                },
            }
        }
        IpAddr::V6(d) => {
            let locals = local_addresses6()?;
            let is_local = d.is_loopback() || locals.iter().any(|(_, a)| *a == d);
            let src6 = match src {
                IpAddr::V6(s) => s,
                IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
            };
            if is_local && iface.is_none() {
                ("lo".to_string(), None)
            } else if is_link_local(dst) {
                // on the link named by the zone: no table to consult
                let i = iface
                    .ok_or_else(|| Error::Route(format!("{dst} is a link-local address: name its interface ({dst}%IFACE, or -e IFACE)")))?;
                (i.to_string(), None)
            } else {
                table6_hop(d, iface, src6, &locals)?
            }
        }
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
        assert_eq!(r.source, IpAddr::V4(Ipv4Addr::LOCALHOST));
    }

    /// As a lab scanner namespace has it: the on-link /64, a /64 routed via the target's
    /// link-local address, the local table's own address and multicast, the null entry.
    const TABLE6: &str = "\
20010002000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    veth0
20010002000000010000000000000000 40 00000000000000000000000000000000 00 fe8000000000000000000000000000aa 00000400 00000001 00000000 00000003    veth0
20010002000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    veth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
";

    #[test]
    fn parses_the_ipv6_table_and_matches_the_longest_prefix() {
        let t = parse_route6_table(TABLE6);
        assert_eq!(t.len(), 4, "the null (reject) entry is dropped");
        let r = lookup6(&t, "2001:2::2".parse().unwrap()).unwrap();
        assert_eq!((r.iface.as_str(), r.gateway, r.prefix), ("veth0", None, 64));
        let r = lookup6(&t, "2001:2:0:1::77".parse().unwrap()).unwrap();
        assert_eq!(r.gateway, Some("fe80::aa".parse().unwrap()));
        assert_eq!(r.metric, 0x400);
        assert!(lookup6(&t, "2001:3::1".parse().unwrap()).is_none(), "no default route");
        assert!(is_link_local("fe80::1".parse().unwrap()));
        assert!(!is_link_local("2001:2::1".parse().unwrap()));
    }

    #[test]
    fn reads_hardware_addresses() {
        assert_eq!(parse_mac("02:00:0a:ff:00:01"), Some(MacAddr::new(2, 0, 10, 255, 0, 1)));
        assert_eq!(parse_mac("02:00"), None);
        assert_eq!(parse_mac("zz:00:00:00:00:00"), None);
    }
}
