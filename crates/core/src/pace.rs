//! The pace of replies: first probes counted by when they were sent, and of them those
//! answered, so the ramp (ramp.rs) can tell within a round trip whether replies keep pace
//! with probes. Time is cut into BUCKET_US buckets; the send thread counts its first sends
//! (and every packet) per bucket in its ledger, the receive thread adds each answer to a
//! first send into the bucket of that send's time (the window's send stamp). A bucket is
//! settled once every answer due for it has been counted: the receive thread has handled
//! every frame that arrived up to the bucket's end plus the RTT and its variance (the
//! caller says up to when that holds); settled buckets are gathered into samples.
//!
//! Buckets live in a ring of SLOTS, reused every SLOTS × BUCKET_US (about 2 s): the send
//! thread clears a slot when its first probe of that time goes out, before any answer to
//! it can come. An answer later than that whole ring (a round trip over 2 s) is counted in
//! the wrong bucket, rarely and harmlessly.

use crate::ramp::Sample;
use std::sync::atomic::{AtomicU32, Ordering};

/// The length of a bucket.
pub const BUCKET_US: u32 = 2_000;
/// Buckets kept.
const SLOTS: usize = 1024;
/// A sample spans at least this much time, so its send rate is not one burst's...
pub const MIN_SPAN_US: u64 = 8_000;
/// ...and at most this much, however few probes it holds.
pub const MAX_SPAN_US: u64 = 100_000;

/// The receive thread's side: answers to first sends, by the bucket of the send time.
pub struct PaceAnswers {
    slots: Vec<AtomicU32>,
}

impl Default for PaceAnswers {
    fn default() -> Self {
        Self { slots: (0..SLOTS).map(|_| AtomicU32::new(0)).collect() }
    }
}

fn slot(bucket: u32) -> usize {
    bucket as usize % SLOTS
}

impl PaceAnswers {
    /// A first send made at `sent_at_us` (the scan's clock, low 32 bits) was answered.
    pub fn answered(&self, sent_at_us: u32) {
        self.slots[slot(sent_at_us / BUCKET_US)].fetch_add(1, Ordering::Relaxed);
    }
}

/// The send thread's side: what it sent per bucket, and how far it has sampled.
pub struct PaceLedger {
    first: Vec<u32>,
    all: Vec<u32>,
    /// The bucket of the latest send, and the first bucket not yet sampled (None before any send).
    current: Option<u32>,
    next: u32,
}

impl Default for PaceLedger {
    fn default() -> Self {
        Self { first: vec![0; SLOTS], all: vec![0; SLOTS], current: None, next: 0 }
    }
}

impl PaceLedger {
    /// Counts `first` first sends among `all` packets, sent at `now_us` (the scan's clock, as
    /// the window stamps the sends). Call before they leave, so a bucket is cleared before
    /// its first answer can arrive.
    pub fn sent(&mut self, answers: &PaceAnswers, now_us: u32, first: u32, all: u32) {
        let b = now_us / BUCKET_US;
        match self.current {
            Some(c) if c == b => {}
            // the clock's low 32 bits wrapped (every 71 minutes), or the first send: start afresh
            Some(c) if b < c => self.restart(answers, b),
            None => self.restart(answers, b),
            Some(c) => {
                // clear every bucket from the last one sent in up to this one
                for k in (c + 1..=b).take(SLOTS) {
                    self.clear(answers, k);
                }
                self.current = Some(b);
                // a sender stalled longer than the ring: what it had not sampled is gone
                if b - self.next >= SLOTS as u32 {
                    self.next = b + 1 - SLOTS as u32;
                }
            }
        }
        let i = slot(b);
        self.first[i] += first;
        self.all[i] += all;
    }

    fn restart(&mut self, answers: &PaceAnswers, b: u32) {
        for k in 0..SLOTS as u32 {
            self.clear(answers, k);
        }
        self.current = Some(b);
        self.next = b;
    }

    fn clear(&mut self, answers: &PaceAnswers, bucket: u32) {
        let i = slot(bucket);
        self.first[i] = 0;
        self.all[i] = 0;
        answers.slots[i].store(0, Ordering::Relaxed);
    }

    /// The settled buckets not yet sampled, as one sample, once it holds `wanted` probes and
    /// spans MIN_SPAN_US, or spans MAX_SPAN_US; None while it holds less (they wait for more). `settled_us`: every
    /// answer to a probe sent before it has been counted (the scan's clock).
    pub fn take(&mut self, answers: &PaceAnswers, settled_us: u32, wanted: u64) -> Option<Sample> {
        let current = self.current?;
        // buckets before `settled` have every answer in; none after `current` had a send
        let settled = settled_us / BUCKET_US;
        let end = settled.min(current + 1);
        if end <= self.next {
            return None;
        }
        let mut s = Sample { from_us: self.next as u64 * BUCKET_US as u64, to_us: end as u64 * BUCKET_US as u64, ..Sample::default() };
        for k in self.next..end {
            let i = slot(k);
            s.probes += self.first[i] as u64;
            s.packets += self.all[i] as u64;
            s.answered += answers.slots[i].load(Ordering::Relaxed) as u64;
        }
        // the span waited for counts settled time, sends or not
        let span = settled as u64 * BUCKET_US as u64 - s.from_us;
        if (s.probes < wanted || span < MIN_SPAN_US) && span < MAX_SPAN_US {
            return None;
        }
        self.next = end;
        // a stray late answer cannot make the share exceed 1
        s.answered = s.answered.min(s.probes);
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_answers_by_the_time_of_their_send() {
        let (answers, mut ledger) = (PaceAnswers::default(), PaceLedger::default());
        // 10 probes in bucket 0, 20 in bucket 1 (with 5 resends), nothing later
        ledger.sent(&answers, 100, 10, 10);
        ledger.sent(&answers, 2_100, 20, 25);
        for _ in 0..9 {
            answers.answered(100);
        }
        for _ in 0..10 {
            answers.answered(3_999);
        }
        // settled up to 2 ms: only bucket 0, too short a span however many probes it holds
        assert_eq!(ledger.take(&answers, 2_000, 5), None);
        // at 8 ms, buckets 0 and 1 (nothing was sent later)
        assert_eq!(ledger.take(&answers, 8_000, 5), Some(Sample { from_us: 0, to_us: 4_000, probes: 30, answered: 19, packets: 35 }));
        ledger.sent(&answers, 8_100, 20, 20);
        for _ in 0..20 {
            answers.answered(8_100);
        }
        // a sample wanting 100 waits...
        assert_eq!(ledger.take(&answers, 20_000, 100), None);
        // ...until it spans MAX_SPAN_US of settled time, sends or not
        let late = ledger.take(&answers, 4_000 + MAX_SPAN_US as u32, 100).unwrap();
        assert_eq!((late.from_us, late.probes, late.answered, late.packets), (4_000, 20, 20, 20));
        assert_eq!(late.to_us, 10_000, "no bucket after the last send is read");
        assert_eq!(ledger.take(&answers, 300_000, 1), None, "nothing twice");
    }

    #[test]
    fn a_reused_bucket_starts_from_zero() {
        let (answers, mut ledger) = (PaceAnswers::default(), PaceLedger::default());
        ledger.sent(&answers, 0, 4, 4);
        answers.answered(0);
        assert_eq!(ledger.take(&answers, 10_000, 1).map(|s| s.answered), Some(1));
        // the same slot a whole ring later
        let again = SLOTS as u32 * BUCKET_US;
        ledger.sent(&answers, again, 3, 3);
        let s = ledger.take(&answers, again + 10_000, 1).unwrap();
        assert_eq!((s.probes, s.answered), (3, 0));
    }

    #[test]
    fn answers_never_exceed_probes_and_wraps_restart() {
        let (answers, mut ledger) = (PaceAnswers::default(), PaceLedger::default());
        ledger.sent(&answers, u32::MAX - 20_000, 1, 1);
        answers.answered(u32::MAX - 20_000);
        answers.answered(u32::MAX - 20_000);
        let s = ledger.take(&answers, u32::MAX, 1).unwrap();
        assert_eq!((s.probes, s.answered), (1, 1));
        // the clock wraps: the ledger starts again from there
        ledger.sent(&answers, 1_000, 2, 2);
        assert_eq!(ledger.take(&answers, 12_000, 1).map(|s| s.probes), Some(2));
    }
}
