//! The retransmission queue: the probes sent and not yet resolved, kept per attempt number
//! in send order, so the next one to time out is always at a queue's front. Takes sent probes
//! and the current timeout; gives the probes due for a resend (or to give up on).

use super::Shared;
use std::collections::VecDeque;

/// The probes of a scan that are sent but not resolved: one queue per attempt number (each
/// stays ordered by position and by send time), and the bench of probes waiting for the
/// retry allowance to rise.
pub(super) struct Flight {
    /// in flight, by attempt: (position, µs sent at, timeout it left with)
    queues: Vec<VecDeque<(u64, u64, u64)>>,
    /// timed out and due for a resend: (position, next attempt)
    pub(super) ready: VecDeque<(u64, u8)>,
    /// at the retry allowance, waiting for it to rise: (position, attempt)
    pub(super) bench: Vec<(u64, u8)>,
    pub(super) in_flight: u64,
    /// whether a probe keeps the timeout it left with (else: the timeout now applies)
    fixed_timeouts: bool,
}

impl Flight {
    pub(super) fn new(max_retries: u8, fixed_timeouts: bool) -> Self {
        Self {
            queues: (0..=max_retries).map(|_| VecDeque::new()).collect(),
            ready: VecDeque::new(),
            bench: Vec::new(),
            in_flight: 0,
            fixed_timeouts,
        }
    }

    /// When a probe sent at `sent_at` with timeout `left_with` times out, the timeout now being `timeout`.
    fn due(&self, sent_at: u64, left_with: u64, timeout: u64) -> u64 {
        sent_at + if self.fixed_timeouts { left_with } else { timeout }
    }

    pub(super) fn push(&mut self, attempt: usize, pos: u64, sent_at: u64, timeout: u64) {
        if attempt >= self.queues.len() {
            self.queues.resize_with(attempt + 1, VecDeque::new);
        }
        self.queues[attempt].push_back((pos, sent_at, timeout));
        self.in_flight += 1;
    }

    /// The next probe unanswered for `timeout` µs: (attempt, position). Answered probes met
    /// on the way are dropped.
    pub(super) fn pop_expired(&mut self, now: u64, timeout: u64, s: &Shared) -> Option<(u8, u64)> {
        for a in 0..self.queues.len() {
            while let Some(&(pos, sent_at, left_with)) = self.queues[a].front() {
                if s.window.answered(pos) {
                    self.pop(a);
                    continue;
                }
                if self.due(sent_at, left_with, timeout) > now {
                    break;
                }
                self.pop(a);
                return Some((a as u8, pos));
            }
        }
        None
    }

    fn pop(&mut self, attempt: usize) {
        if self.queues[attempt].pop_front().is_some() {
            self.in_flight -= 1;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.in_flight == 0
    }

    /// The lowest position still unresolved (window slots from it on are in use).
    pub(super) fn oldest(&self) -> Option<u64> {
        let q = self.queues.iter().filter_map(|q| q.front().map(|e| e.0)).min();
        let r = self.ready.iter().map(|e| e.0).min();
        let b = self.bench.iter().map(|e| e.0).min();
        q.into_iter().chain(r).chain(b).min()
    }

    /// When the first probe in flight times out, given the timeout now.
    pub(super) fn earliest(&self, timeout: u64) -> Option<u64> {
        self.queues.iter().filter_map(|q| q.front().map(|e| self.due(e.1, e.2, timeout))).min()
    }

    /// The retry allowance rose: benched probes go again, now.
    pub(super) fn release_bench(&mut self) {
        self.ready.extend(self.bench.drain(..).map(|(pos, attempt)| (pos, attempt + 1)));
    }
}
