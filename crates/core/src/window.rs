//! The window of probes in flight: one slot per recent send position, shared by the send
//! and receive threads without locks. A slot packs the position it belongs to (its low 48
//! bits: positions sharing a slot and those bits lie 2^48 apart, and the window is never
//! wider than 2^20), the latest attempt sent and two flags, so a late reply can never mark a
//! newer probe answered.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const ANSWERED: u64 = 1;
const RESOLVED: u64 = 2;

/// The part of a position a slot keeps.
#[inline]
fn tag(pos: u64) -> u64 {
    pos & ((1 << 48) - 1)
}

pub struct Window {
    slots: Vec<AtomicU64>,
    sent_at_us: Vec<AtomicU32>,
    mask: u64,
}

/// What the receive thread learnt from marking a reply.
#[derive(Debug, PartialEq, Eq)]
pub enum Mark {
    /// First reply for this probe; `resolved_now` if it was still outstanding; the attempt
    /// last sent and when (µs since start, low 32 bits).
    First { resolved_now: bool, last_attempt: u8, sent_at_us: u32 },
    /// The probe had been answered already.
    Duplicate,
    /// The slot has been reused by a newer probe: this reply is late but still real.
    Stale,
}

impl Window {
    /// A window of at least `min` slots (rounded up to a power of two, at most 2^20).
    pub fn new(min: u64) -> Self {
        let n = min.clamp(1024, 1 << 20).next_power_of_two();
        Self {
            slots: (0..n).map(|_| AtomicU64::new(u64::MAX)).collect(),
            sent_at_us: (0..n).map(|_| AtomicU32::new(0)).collect(),
            mask: n - 1,
        }
    }

    pub fn capacity(&self) -> u64 {
        self.mask + 1
    }

    #[inline]
    fn slot(&self, pos: u64) -> usize {
        (pos & self.mask) as usize
    }

    /// A first send of `pos` (its slot must no longer hold an unresolved probe).
    pub fn start(&self, pos: u64, now_us: u32) {
        let i = self.slot(pos);
        self.sent_at_us[i].store(now_us, Ordering::Relaxed);
        self.slots[i].store(tag(pos) << 16, Ordering::Release);
    }

    /// Before a retransmission: records the new attempt unless an answer came first.
    /// Returns false when the probe is answered (nothing to resend).
    pub fn retry(&self, pos: u64, attempt: u8, now_us: u32) -> bool {
        let i = self.slot(pos);
        let mut cur = self.slots[i].load(Ordering::Acquire);
        loop {
            if cur >> 16 != tag(pos) || cur & ANSWERED != 0 {
                return false;
            }
            let new = (cur & !0xfc) | ((attempt as u64) << 2);
            match self.slots[i].compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.sent_at_us[i].store(now_us, Ordering::Relaxed);
                    return true;
                }
                Err(c) => cur = c,
            }
        }
    }

    /// Whether `pos` has been answered.
    pub fn answered(&self, pos: u64) -> bool {
        let cur = self.slots[self.slot(pos)].load(Ordering::Acquire);
        cur >> 16 != tag(pos) || cur & ANSWERED != 0
    }

    /// Gives up on `pos` after its last attempt; true if this resolved it.
    pub fn give_up(&self, pos: u64) -> bool {
        let i = self.slot(pos);
        let mut cur = self.slots[i].load(Ordering::Acquire);
        loop {
            if cur >> 16 != tag(pos) || cur & RESOLVED != 0 {
                return false;
            }
            match self.slots[i].compare_exchange_weak(cur, cur | RESOLVED, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(c) => cur = c,
            }
        }
    }

    /// Marks a validated reply for `pos`.
    pub fn mark(&self, pos: u64) -> Mark {
        let i = self.slot(pos);
        let mut cur = self.slots[i].load(Ordering::Acquire);
        loop {
            if cur >> 16 != tag(pos) {
                return Mark::Stale;
            }
            if cur & ANSWERED != 0 {
                return Mark::Duplicate;
            }
            match self.slots[i].compare_exchange_weak(cur, cur | ANSWERED | RESOLVED, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    return Mark::First {
                        resolved_now: cur & RESOLVED == 0,
                        last_attempt: ((cur >> 2) & 0x3f) as u8,
                        sent_at_us: self.sent_at_us[i].load(Ordering::Relaxed),
                    }
                }
                Err(c) => cur = c,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_one_probe_through_its_life() {
        let w = Window::new(1024);
        w.start(5, 100);
        assert!(!w.answered(5));
        assert!(w.retry(5, 1, 200));
        assert_eq!(w.mark(5), Mark::First { resolved_now: true, last_attempt: 1, sent_at_us: 200 });
        assert_eq!(w.mark(5), Mark::Duplicate);
        assert!(w.answered(5));
        assert!(!w.retry(5, 2, 300), "no resend once answered");
        assert!(!w.give_up(5), "already resolved by the answer");
    }

    #[test]
    fn a_late_answer_after_giving_up_is_still_reported_once() {
        let w = Window::new(1024);
        w.start(7, 0);
        assert!(w.give_up(7));
        assert_eq!(w.mark(7), Mark::First { resolved_now: false, last_attempt: 0, sent_at_us: 0 });
        assert_eq!(w.mark(7), Mark::Duplicate);
    }

    #[test]
    fn positions_past_two_to_the_48_keep_their_slot() {
        // an IPv6 space of 2^64 probes: positions above 2^48 must still be told apart
        let w = Window::new(1024);
        let p = (1u64 << 60) + 5;
        w.start(p, 1);
        assert!(!w.answered(p));
        assert_eq!(w.mark(p), Mark::First { resolved_now: true, last_attempt: 0, sent_at_us: 1 });
        let q = u64::MAX;
        w.start(q, 2);
        assert_eq!(w.mark(q - w.capacity()), Mark::Stale);
        assert_eq!(w.mark(q), Mark::First { resolved_now: true, last_attempt: 0, sent_at_us: 2 });
    }

    #[test]
    fn a_reused_slot_never_takes_an_old_reply() {
        let w = Window::new(1024);
        let cap = w.capacity();
        w.start(3, 0);
        w.start(3 + cap, 10);
        assert_eq!(w.mark(3), Mark::Stale);
        assert!(!w.answered(3 + cap));
        assert_eq!(w.mark(3 + cap), Mark::First { resolved_now: true, last_attempt: 0, sent_at_us: 10 });
    }
}
