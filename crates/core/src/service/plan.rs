//! nmap's choice and order of probes for one port (service_scan.cc's nextProbe): the NULL
//! probe first (TCP only), then every probe of the port's protocol that lists the port
//! (`ports`, or `sslports` inside TLS) in file order, whatever its rarity, then the others
//! in file order with rarity up to the intensity. After a softmatch only probes whose
//! match lines can name that service are tried (and rarity no longer limits them), unless
//! the intensity is 9.

use super::db::{Db, Proto};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Initial,
    Null,
    Matching,
    NonMatching,
    Done,
}

/// Where one port is in nmap's probe sequence.
#[derive(Clone, Debug)]
pub struct Plan {
    phase: Phase,
    /// Position in `Db::order` for the two list phases.
    cursor: usize,
    pub proto: Proto,
    pub port: u16,
    pub ssl: bool,
    pub intensity: u8,
}

impl Plan {
    pub fn new(proto: Proto, port: u16, ssl: bool, intensity: u8) -> Plan {
        Plan { phase: Phase::Initial, cursor: 0, proto, port, ssl, intensity }
    }

    /// Back to the start (nmap's resetProbes, used when TLS is found).
    pub fn reset(&mut self, ssl: bool) {
        self.phase = Phase::Initial;
        self.cursor = 0;
        self.ssl = ssl;
    }

    /// The next probe (an index into `db.probes`), or None when the sequence is over.
    /// `soft` is the service softmatched so far, if any.
    pub fn next(&mut self, db: &Db, soft: Option<&str>) -> Option<usize> {
        let mut dropdown = false;
        if self.phase == Phase::Initial {
            self.phase = Phase::Null;
            if self.proto == Proto::Tcp {
                if let Some(n) = db.null {
                    return Some(n);
                }
            }
        }
        if self.phase == Phase::Null {
            self.phase = Phase::Matching;
            dropdown = true;
            self.cursor = 0;
        }
        if self.phase == Phase::Matching {
            if !dropdown && self.cursor < db.order.len() {
                self.cursor += 1;
            }
            while self.cursor < db.order.len() {
                let p = &db.probes[db.order[self.cursor]];
                if p.proto == self.proto
                    && p.port_is_probable(self.ssl, self.port)
                    && (soft.is_none() || self.intensity >= 9 || soft.is_some_and(|s| p.service_is_possible(s)))
                {
                    return Some(db.order[self.cursor]);
                }
                self.cursor += 1;
            }
            self.phase = Phase::NonMatching;
            dropdown = true;
            self.cursor = 0;
        }
        if self.phase == Phase::NonMatching {
            if !dropdown && self.cursor < db.order.len() {
                self.cursor += 1;
            }
            while self.cursor < db.order.len() {
                let p = &db.probes[db.order[self.cursor]];
                let ok = match soft {
                    None => p.rarity <= self.intensity,
                    Some(s) => self.intensity >= 9 || p.service_is_possible(s),
                };
                if p.proto == self.proto && !p.port_is_probable(self.ssl, self.port) && ok {
                    return Some(db.order[self.cursor]);
                }
                self.cursor += 1;
            }
            self.phase = Phase::Done;
        }
        None
    }

    /// The rest of the sequence if no (further) softmatch happens: what may be run ahead.
    pub fn lookahead(&self, db: &Db, soft: Option<&str>, max: usize) -> Vec<usize> {
        let mut p = self.clone();
        let mut out = Vec::new();
        while out.len() < max {
            match p.next(db, soft) {
                Some(i) => out.push(i),
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &[u8] = b"Probe TCP NULL q||\n\
match a m|^A|\n\
Probe TCP One q|1|\n\
rarity 8\n\
ports 80\n\
match b m|^B|\n\
Probe TCP Two q|2|\n\
rarity 1\n\
sslports 80\n\
softmatch x m|^X|\n\
Probe UDP U q|u|\n\
rarity 1\n\
ports 80\n\
Probe TCP Three q|3|\n\
rarity 3\n\
ports 81\n\
match x m|^XX|\n\
Probe TCP Four q|4|\n\
rarity 9\n\
match x m|^XXX|\n";

    fn names(db: &Db, mut plan: Plan, soft: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(i) = plan.next(db, soft) {
            out.push(db.probes[i].name.clone());
        }
        out
    }

    #[test]
    fn order_and_choice() {
        let db = Db::parse(DB).unwrap();
        // port-listed probes first whatever their rarity, then the rest by rarity
        assert_eq!(names(&db, Plan::new(Proto::Tcp, 80, false, 7), None), ["NULL", "One", "Two", "Three"]);
        assert_eq!(names(&db, Plan::new(Proto::Tcp, 81, false, 7), None), ["NULL", "Three", "Two"]);
        assert_eq!(names(&db, Plan::new(Proto::Tcp, 81, false, 0), None), ["NULL", "Three"]);
        assert_eq!(names(&db, Plan::new(Proto::Tcp, 81, false, 9), None), ["NULL", "Three", "One", "Two", "Four"]);
        // inside TLS, sslports decide
        assert_eq!(names(&db, Plan::new(Proto::Tcp, 80, true, 2), None), ["NULL", "Two"]);
        assert_eq!(names(&db, Plan::new(Proto::Udp, 80, false, 7), None), ["U"]);
        // after a softmatch of x: only probes that can name x, rarity no longer limits
        assert_eq!(names(&db, Plan::new(Proto::Tcp, 82, false, 2), Some("x")), ["NULL", "Two", "Three", "Four"]);
        assert_eq!(names(&db, Plan::new(Proto::Tcp, 82, false, 9), Some("x")), ["NULL", "One", "Two", "Three", "Four"]);
    }

    #[test]
    fn softmatch_midway() {
        let db = Db::parse(DB).unwrap();
        let mut p = Plan::new(Proto::Tcp, 80, false, 7);
        assert_eq!(p.next(&db, None), db.null);
        assert_eq!(db.probes[p.next(&db, None).unwrap()].name, "One");
        assert_eq!(p.lookahead(&db, None, 10).len(), 2);
        // softmatched x: One is behind us; Two (matching phase), then Three and Four
        let rest: Vec<String> = p.lookahead(&db, Some("x"), 10).iter().map(|&i| db.probes[i].name.clone()).collect();
        assert_eq!(rest, ["Two", "Three", "Four"]);
    }
}
