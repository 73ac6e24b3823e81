//! Where a scan's frames go, decided before the first one leaves: the route to the targets
//! (one for all of them), the next hop's hardware address (the gateway's, or each on-link
//! target's by ARP or, for IPv6, neighbour solicitation), and the sockets on that route.
//! Takes the configuration and the probe space; gives the open network path the send and
//! receive threads use.

use super::receive::{open_receiver, Receiver};
use super::ScanConfig;
use crate::addr::Family;
use crate::error::{Error, Result};
use crate::net::neighbor;
use crate::net::route::{route_to, Route};
use crate::net::socket::{PacketSocket, RawIpSocket, Sender};
use crate::space::ProbeSpace;
use crate::technique::Technique;
use pnet_base::MacAddr;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// On-link targets are resolved by ARP one by one; beyond this many, refuse for now.
const MAX_ONLINK_TARGETS: u64 = 65_536;

/// The network path of a scan: its route, the sockets on it and each target's next hop.
pub(super) struct Network {
    pub(super) route: Route,
    /// None for a dry run or a connect scan: nothing to read.
    pub(super) rx: Option<Receiver>,
    pub(super) tx: Sender,
    pub(super) next_hop: NextHop,
    /// On-link targets that did not answer ARP or solicitation, so get no probe.
    pub(super) unresolved: Vec<IpAddr>,
}

/// Plans the route and opens the sockets; the receiving one first, since it is where
/// missing privileges show.
pub(super) fn open_network(cfg: &ScanConfig, space: &ProbeSpace) -> Result<Network> {
    let family = space.family();
    if cfg.dry_run || !cfg.technique.is_raw() {
        // a dry run asks nothing of the network: no routes, no sockets, no ARP; the
        // connect scan leaves routing to the kernel
        let route = Route {
            iface: cfg.interface.clone().unwrap_or_else(|| if cfg.dry_run { "none".into() } else { "kernel".into() }),
            source: cfg.source.unwrap_or(family.unspecified()),
            gateway: None,
            loopback: false,
            src_mac: MacAddr::zero(),
        };
        return Ok(Network { route, rx: None, tx: Sender::Null, next_hop: NextHop::All(MacAddr::zero()), unresolved: vec![] });
    }
    // open the receiving socket first: it is where missing privileges show
    let route = plan_route(cfg, space)?;
    let link_probe = matches!(cfg.technique, Technique::Arp | Technique::Ndp);
    if link_probe && (route.loopback || route.gateway.is_some()) {
        return Err(Error::Route(format!(
            "{} needs targets on the local link; {} is reached through {}",
            if cfg.technique == Technique::Arp { "ARP ping" } else { "neighbour discovery" },
            family.ip(space.ranges()[0].0),
            route.gateway.map_or("loopback".to_string(), |g| g.to_string())
        )));
    }
    let rx = open_receiver(&route, cfg.technique)?;
    let tx = if route.loopback {
        Sender::Loopback(if family == Family::V6 { RawIpSocket::open6()? } else { RawIpSocket::open()? })
    } else {
        let s = PacketSocket::open(&route.iface, 0)?;
        s.bypass_qdisc();
        Sender::Link(s)
    };
    // ARP probes are broadcasts, solicitations go to each target's multicast group (the frame
    // builder sets it): there is nothing to resolve first
    let (next_hop, unresolved) = match cfg.technique {
        Technique::Arp => (NextHop::All(MacAddr::broadcast()), vec![]),
        Technique::Ndp => (NextHop::All(MacAddr::zero()), vec![]),
        _ => plan_next_hop(&route, space)?,
    };
    Ok(Network { route, rx: Some(rx), tx, next_hop, unresolved })
}

/// How frames reach each target's next hop.
pub(super) enum NextHop {
    All(MacAddr),
    /// By address value (addr.rs).
    PerTarget(HashMap<u128, MacAddr>),
}

impl NextHop {
    #[inline]
    pub(super) fn mac(&self, addr: u128) -> Option<MacAddr> {
        match self {
            NextHop::All(m) => Some(*m),
            NextHop::PerTarget(t) => t.get(&addr).copied(),
        }
    }
}

/// Picks the route for every target range and checks they agree.
fn plan_route(cfg: &ScanConfig, space: &ProbeSpace) -> Result<Route> {
    let mut chosen: Option<Route> = None;
    let family = space.family();
    for &(s, e) in space.ranges() {
        for a in [s, e] {
            let r = route_to(family.ip(a), cfg.interface.as_deref(), cfg.source)?;
            match &chosen {
                None => chosen = Some(r),
                Some(c) if c.iface != r.iface || c.source != r.source || c.gateway != r.gateway => {
                    return Err(Error::Route(format!(
                        "targets need different routes ({} via {}, {} via {}); scan them separately",
                        family.ip(space.ranges()[0].0),
                        c.iface,
                        family.ip(a),
                        r.iface
                    )))
                }
                Some(_) => {}
            }
        }
    }
    chosen.ok_or_else(|| Error::InvalidOptions("no targets to scan".into()))
}

fn plan_next_hop(route: &Route, space: &ProbeSpace) -> Result<(NextHop, Vec<IpAddr>)> {
    if route.loopback {
        return Ok((NextHop::All(MacAddr::zero()), vec![]));
    }
    let family = space.family();
    if let Some(gw) = route.gateway {
        let mac = resolve(route, family, &[crate::addr::value(gw)], Duration::from_millis(500))?.get(&crate::addr::value(gw)).copied();
        let what = if family == Family::V6 { "neighbour solicitation" } else { "ARP" };
        let mac = mac.ok_or_else(|| Error::Route(format!("the gateway {gw} on {} does not answer {what}", route.iface)))?;
        return Ok((NextHop::All(mac), vec![]));
    }
    if space.addresses() > MAX_ONLINK_TARGETS as u128 {
        return Err(Error::Route(format!(
            "{} on-link targets on {}: more than {MAX_ONLINK_TARGETS} are not supported yet",
            space.addresses(),
            route.iface
        )));
    }
    let wanted: Vec<u128> = space.ranges().iter().flat_map(|&(s, e)| s..=e).collect();
    let found = resolve(route, family, &wanted, Duration::from_millis(300))?;
    let unresolved = wanted.iter().filter(|a| !found.contains_key(a)).map(|a| family.ip(*a)).collect();
    Ok((NextHop::PerTarget(found), unresolved))
}

/// The hardware addresses of `wanted` (address values) that answer ARP (IPv4) or neighbour
/// solicitation (IPv6), three rounds of `wait` each.
fn resolve(route: &Route, family: Family, wanted: &[u128], wait: Duration) -> Result<HashMap<u128, MacAddr>> {
    Ok(match family {
        Family::V4 => {
            let w: Vec<Ipv4Addr> = wanted.iter().map(|v| Ipv4Addr::from(*v as u32)).collect();
            neighbor::resolve(route, &w, 3, wait)?.into_iter().map(|(a, m)| (u32::from(a) as u128, m)).collect()
        }
        Family::V6 => {
            let w: Vec<Ipv6Addr> = wanted.iter().map(|v| Ipv6Addr::from(*v)).collect();
            neighbor::resolve6(route, &w, 3, wait)?.into_iter().map(|(a, m)| (u128::from(a), m)).collect()
        }
    })
}
