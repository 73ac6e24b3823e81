//! The receive side's fast path: a TPACKET_V3 ring, and the classic BPF filter that keeps
//! only frames that could be replies.
//!
//! The ring: the kernel writes the frames a packet socket receives into blocks of memory
//! it shares with us (mmap). It hands a block over when the block is full or `retire_ms`
//! after it opened, whichever comes first; we read every frame of the block in place (no
//! system call and no copy per frame) and give the block back. poll() waits for the next
//! block, never longer than the caller's timeout, so the receive loop stays responsive.
//!
//! The filter: a classic BPF program run on every frame the socket would receive, before
//! anything is copied. IPv4 or IPv6 frames addressed to the scan's source address pass whole
//! (ARP replies to it, for ARP scans); everything else, our own kernel's RSTs included, is
//! dropped in the kernel. It only narrows what arrives: every reply `validate` accepts is
//! addressed to the source, so nothing it would keep is lost.
//!
//! Layouts follow linux/if_packet.h (structs and constants from the libc crate) and
//! linux/filter.h; see Documentation/networking/packet_mmap.rst.

use crate::error::{Error, Result};
use crate::net::socket::{Direction, PacketSocket};
use std::io;
use std::marker::PhantomData;
use std::mem::{offset_of, size_of};
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The shape of a receive ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingGeometry {
    /// Bytes per block: a multiple of the page size.
    pub block_size: u32,
    pub block_nr: u32,
    /// The nominal frame size, for the kernel's checks only: V3 packs frames of any size.
    pub frame_size: u32,
    /// A block with frames in it is handed over at the latest this long after it opened.
    pub retire_ms: u32,
}

impl Default for RingGeometry {
    /// 16 MiB as 512 blocks of 32 KiB, retired after 1 ms.
    /// - Retired promptly: the scan's first replies set the retransmission timeout, and a
    ///   probe sent before the first RTT sample is seen keeps the initial 1 s timeout; a
    ///   reply held 4 ms in a block measured ~1 s longer scans when a filtered port was
    ///   among the first 20 probes at 10k/s. Later replies carry the kernel's arrival time,
    ///   so RTTs never include the wait.
    /// - Many small blocks rather than a few large ones: when replies trickle in, each
    ///   block goes out holding only one retire period's frames, so the number of blocks
    ///   bounds how long the receive thread may stall before the kernel drops frames (here
    ///   ~0.5 s); at a flood, a block holds ~220 small frames, the ring ~115k.
    /// - Small blocks are also cheap to set up: each is one physically contiguous
    ///   allocation, and 1 MiB ones measured 15× slower to get than 64 KiB ones on a VM
    ///   (150 ms against 10 ms for the ring; most of the 10 ms is the RCU grace period every
    ///   PACKET_RX_RING waits out).
    fn default() -> Self {
        Self { block_size: 1 << 15, block_nr: 512, frame_size: 2048, retire_ms: 1 }
    }
}

impl RingGeometry {
    fn bytes(&self) -> usize {
        self.block_size as usize * self.block_nr as usize
    }
}

/// TPACKET_ALIGN of linux/if_packet.h.
const fn tpacket_align(x: usize) -> usize {
    (x + libc::TPACKET_ALIGNMENT - 1) & !(libc::TPACKET_ALIGNMENT - 1)
}

/// Where a frame's sockaddr_ll sits after its tpacket3_hdr.
const SLL_AT: usize = tpacket_align(size_of::<libc::tpacket3_hdr>());
/// Where a block's status word sits in its tpacket_block_desc.
const BLOCK_STATUS_AT: usize = offset_of!(libc::tpacket_block_desc, hdr) + offset_of!(libc::tpacket_hdr_v1, block_status);
const BLOCK_NUM_PKTS_AT: usize = offset_of!(libc::tpacket_block_desc, hdr) + offset_of!(libc::tpacket_hdr_v1, num_pkts);
const BLOCK_FIRST_AT: usize = offset_of!(libc::tpacket_block_desc, hdr) + offset_of!(libc::tpacket_hdr_v1, offset_to_first_pkt);

/// What a ring's kernel counters said since they were last read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Frames written into the ring.
    pub frames: u64,
    /// Frames the kernel dropped because no block was free: replies this process never saw.
    pub drops: u64,
}

/// A TPACKET_V3 receive ring on a packet socket, mapped into this process.
pub struct RxRing {
    sock: PacketSocket,
    /// The start of the mapping: `geometry.bytes()` bytes, block after block.
    map: NonNull<u8>,
    geometry: RingGeometry,
    /// The block to read next: the kernel fills blocks in order, and so do we read them.
    next: u32,
}

// SAFETY: the mapping belongs to this value alone (nothing else holds its address), and
// every access goes through &mut self or a Block borrowing it; moving the ring to another
// thread moves that sole ownership with it.
unsafe impl Send for RxRing {}

impl RxRing {
    /// Turns `sock` into a ring of `geometry`. The socket is consumed: when this fails it
    /// may be left half set up (its version changed, a ring allocated), so it is closed.
    pub fn new(sock: PacketSocket, geometry: RingGeometry) -> Result<Self> {
        let g = geometry;
        let bad = |what: &str| Error::InvalidOptions(format!("receive ring: {what}"));
        let fits = g.frame_size > 0
            && g.block_size.is_multiple_of(g.frame_size)
            && (g.frame_size as usize).is_multiple_of(libc::TPACKET_ALIGNMENT);
        if g.block_nr == 0 || !fits {
            return Err(bad("block and frame sizes do not fit"));
        }
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        sock.setsockopt(libc::SOL_PACKET, libc::PACKET_VERSION, &version).map_err(|e| Error::io("choosing TPACKET_V3", e))?;
        let req = libc::tpacket_req3 {
            tp_block_size: g.block_size,
            tp_block_nr: g.block_nr,
            tp_frame_size: g.frame_size,
            tp_frame_nr: (g.block_size / g.frame_size) * g.block_nr,
            tp_retire_blk_tov: g.retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        sock.setsockopt(libc::SOL_PACKET, libc::PACKET_RX_RING, &req).map_err(|e| Error::io("setting up a receive ring", e))?;
        // SAFETY: maps the ring the kernel just allocated for this socket, at an address of
        // the kernel's choice; nothing in this process aliases it. The result is checked.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), g.bytes(), libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, sock.as_raw_fd(), 0)
        };
        if p == libc::MAP_FAILED {
            return Err(Error::io("mapping the receive ring", io::Error::last_os_error()));
        }
        let map = NonNull::new(p as *mut u8).ok_or_else(|| bad("mapped at address zero"))?;
        Ok(Self { sock, map, geometry: g, next: 0 })
    }

    pub fn geometry(&self) -> RingGeometry {
        self.geometry
    }

    /// Frames the kernel passed to the ring and frames it dropped because the ring was full,
    /// since the last call (PACKET_STATISTICS: reading resets the kernel's counters).
    pub fn stats(&self) -> io::Result<RingStats> {
        let mut st = libc::tpacket_stats_v3 { tp_packets: 0, tp_drops: 0, tp_freeze_q_cnt: 0 };
        let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: st is a live tpacket_stats_v3 and len its size; the kernel writes at most len bytes
        let rc = unsafe {
            libc::getsockopt(
                self.sock.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut st as *mut libc::tpacket_stats_v3 as *mut libc::c_void,
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // tp_packets counts the dropped frames too
        Ok(RingStats { frames: st.tp_packets.saturating_sub(st.tp_drops) as u64, drops: st.tp_drops as u64 })
    }

    /// The status word of block `i`, shared with the kernel.
    fn status(&self, i: u32) -> &AtomicU32 {
        let at = i as usize * self.geometry.block_size as usize + BLOCK_STATUS_AT;
        // SAFETY: `at` lies inside the mapping (i < block_nr) and is 4-byte aligned (blocks
        // start on page boundaries, the field at offset 8); the word lives as long as the
        // mapping, which outlives &self; the kernel reads and writes it concurrently, which
        // is what the atomic type is for.
        unsafe { AtomicU32::from_ptr(self.map.as_ptr().add(at) as *mut u32) }
    }

    fn ready(&self) -> bool {
        self.status(self.next).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    /// Whether a block the kernel handed over waits to be read.
    pub fn has_ready_block(&self) -> bool {
        self.ready()
    }

    /// The next block of frames, waiting for it at most `timeout`; None when none came.
    /// The block goes back to the kernel when the returned value is dropped.
    pub fn next_block(&mut self, timeout: Duration) -> Result<Option<Block<'_>>> {
        if !self.ready() {
            let mut pfd = libc::pollfd { fd: self.sock.as_raw_fd(), events: libc::POLLIN | libc::POLLERR, revents: 0 };
            let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: pfd is a live pollfd and the count passed is 1
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(libc::EINTR) => Ok(None),
                    _ => Err(Error::io("waiting for packets", e)),
                };
            }
            if pfd.revents & libc::POLLERR != 0 {
                // e.g. ENETDOWN when the interface goes away: as recvfrom would report it
                if let Some(e) = self.sock.take_error() {
                    return Err(Error::io("receiving packets", e));
                }
            }
            if !self.ready() {
                return Ok(None);
            }
        }
        let i = self.next;
        self.next = (i + 1) % self.geometry.block_nr;
        let size = self.geometry.block_size as usize;
        // SAFETY: block i lies inside the mapping (i < block_nr)
        let start = unsafe { self.map.as_ptr().add(i as usize * size) };
        Ok(Some(Block { start, size, _ring: PhantomData }))
    }
}

impl Drop for RxRing {
    fn drop(&mut self) {
        // SAFETY: map and bytes() are exactly what mmap returned and was given; no Block
        // can be alive (each borrows the ring), so nothing uses the mapping any more. The
        // socket closes after this, and the kernel frees the ring then.
        unsafe {
            libc::munmap(self.map.as_ptr() as *mut libc::c_void, self.geometry.bytes());
        }
    }
}

/// A block the kernel has handed over: its frames stay put until it is dropped, which
/// hands it back.
pub struct Block<'a> {
    start: *mut u8,
    size: usize,
    _ring: PhantomData<&'a mut RxRing>,
}

impl Block<'_> {
    fn bytes(&self) -> &[u8] {
        // SAFETY: the block lies inside the mapping, which outlives 'a (the ring is borrowed
        // mutably for it). Its status says TP_STATUS_USER, read with Acquire ordering: the
        // kernel wrote the block completely before publishing that status and writes none
        // of it until we hand it back, which only Drop does, after every borrow of these
        // bytes has ended (they borrow &self).
        unsafe { std::slice::from_raw_parts(self.start, self.size) }
    }

    /// The frames in the block, in the order they arrived.
    pub fn frames(&self) -> Frames<'_> {
        frames_in(self.bytes())
    }
}

/// The frames of a block given as bytes (a tpacket_block_desc, then its tpacket3_hdr
/// chain): what `Block::frames` walks, open to the fuzz target of a malformed block.
pub fn frames_in(b: &[u8]) -> Frames<'_> {
    let left = read_u32(b, BLOCK_NUM_PKTS_AT).unwrap_or(0);
    let at = read_u32(b, BLOCK_FIRST_AT).unwrap_or(0) as usize;
    Frames { block: b, at, left }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        // SAFETY: the status word lies inside this block, 4-byte aligned (see RxRing::status);
        // no borrow of the block's bytes outlives &self, so after this Release store the
        // kernel may write the block again without anyone reading it.
        let status = unsafe { AtomicU32::from_ptr(self.start.add(BLOCK_STATUS_AT) as *mut u32) };
        status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}

/// One received frame, read in place.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'b> {
    /// The whole frame from its Ethernet header on.
    pub data: &'b [u8],
    pub direction: Direction,
    /// When the kernel took the frame (CLOCK_REALTIME): seconds, nanoseconds.
    pub sec: u32,
    pub nsec: u32,
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|x| u32::from_ne_bytes([x[0], x[1], x[2], x[3]]))
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|x| u16::from_ne_bytes([x[0], x[1]]))
}

/// Walks a block's tpacket3_hdr chain; every offset is bounds-checked against the block,
/// so a malformed block ends the walk instead of reading outside it.
pub struct Frames<'b> {
    block: &'b [u8],
    at: usize,
    left: u32,
}

impl<'b> Frames<'b> {
    fn frame(&self) -> Option<(Frame<'b>, u32)> {
        let h = self.block.get(self.at..)?;
        let next = read_u32(h, offset_of!(libc::tpacket3_hdr, tp_next_offset))?;
        let sec = read_u32(h, offset_of!(libc::tpacket3_hdr, tp_sec))?;
        let nsec = read_u32(h, offset_of!(libc::tpacket3_hdr, tp_nsec))?;
        let snaplen = read_u32(h, offset_of!(libc::tpacket3_hdr, tp_snaplen))? as usize;
        let mac = read_u16(h, offset_of!(libc::tpacket3_hdr, tp_mac))? as usize;
        let pkttype = *h.get(SLL_AT + offset_of!(libc::sockaddr_ll, sll_pkttype))?;
        let data = h.get(mac..mac.checked_add(snaplen)?)?;
        let direction = if pkttype == libc::PACKET_OUTGOING { Direction::Outgoing } else { Direction::Incoming };
        Some((Frame { data, direction, sec, nsec }, next))
    }
}

impl<'b> Iterator for Frames<'b> {
    type Item = Frame<'b>;

    fn next(&mut self) -> Option<Frame<'b>> {
        if self.left == 0 {
            return None;
        }
        let Some((f, next)) = self.frame() else {
            self.left = 0;
            return None;
        };
        self.left -= 1;
        // the last frame's offset is 0: the count ends the walk first. A zero offset with
        // frames still counted (a malformed block) would yield this frame again and again,
        // up to 2^32 times: end the walk instead. Any other offset moves on, so the walk is
        // bounded by the block's length.
        if next == 0 {
            self.left = 0;
        }
        self.at += next as usize;
        Some(f)
    }
}

/// Which replies a scan waits for, for its filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replies {
    /// IPv4 datagrams (TCP, UDP, ICMP replies and ICMP errors), all addressed to the source.
    Ipv4,
    /// ARP replies, whose target is the source.
    Arp,
    /// IPv6 datagrams addressed to the source (neighbour advertisements to it included).
    Ipv6,
}

/// Classic BPF: the few opcodes the filter needs (linux/bpf_common.h).
pub mod bpf {
    /// A = the 16-bit big-endian word at byte k (BPF_LD | BPF_H | BPF_ABS)
    pub const LDH_ABS: u16 = (libc::BPF_LD | libc::BPF_H | libc::BPF_ABS) as u16;
    /// A = the 32-bit big-endian word at byte k (BPF_LD | BPF_W | BPF_ABS)
    pub const LDW_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    /// skip jt instructions if A == k, else jf (BPF_JMP | BPF_JEQ | BPF_K)
    pub const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    /// accept the first k bytes of the frame; 0 drops it (BPF_RET | BPF_K)
    pub const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

    pub const fn stmt(code: u16, k: u32) -> libc::sock_filter {
        libc::sock_filter { code, jt: 0, jf: 0, k }
    }

    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
        libc::sock_filter { code, jt, jf, k }
    }
}

/// What the filter keeps of a frame it accepts: all of it (tcpdump's default snap length).
const KEEP_ALL: u32 = 0x40000;
const ETH_TYPE_AT: u32 = 12;
const ETH_HLEN: u32 = 14;

/// The filter that keeps `replies` addressed to `source` and drops every other frame (all
/// of them when `source` is not of the replies' family).
pub fn reply_filter(replies: Replies, source: impl Into<IpAddr>) -> Vec<libc::sock_filter> {
    use bpf::*;
    let (src, src6) = match source.into() {
        // loads are big-endian: compare with the address's value
        IpAddr::V4(a) => (u32::from(a), None),
        IpAddr::V6(a) => (0, Some(u128::from(a))),
    };
    if (replies == Replies::Ipv6) != src6.is_some() {
        return vec![stmt(RET_K, 0)];
    }
    if let Some(a) = src6 {
        let w = |i: u32| (a >> (96 - 32 * i)) as u32;
        return vec![
            stmt(LDH_ABS, ETH_TYPE_AT),   // 0: A = the EtherType
            jump(JEQ_K, 0x86dd, 0, 9),    // 1: IPv6 → 2, else drop (11)
            stmt(LDW_ABS, ETH_HLEN + 24), // 2: the destination's first word
            jump(JEQ_K, w(0), 0, 7),      // 3
            stmt(LDW_ABS, ETH_HLEN + 28), // 4: second
            jump(JEQ_K, w(1), 0, 5),      // 5
            stmt(LDW_ABS, ETH_HLEN + 32), // 6: third
            jump(JEQ_K, w(2), 0, 3),      // 7
            stmt(LDW_ABS, ETH_HLEN + 36), // 8: fourth
            jump(JEQ_K, w(3), 0, 1),      // 9: all ours → keep (10), else drop (11)
            stmt(RET_K, KEEP_ALL),        // 10: keep
            stmt(RET_K, 0),               // 11: drop
        ];
    }
    match replies {
        Replies::Ipv4 => vec![
            stmt(LDH_ABS, ETH_TYPE_AT),   // 0: A = the EtherType
            jump(JEQ_K, 0x0800, 0, 3),    // 1: IPv4 → 2, else drop (5)
            stmt(LDW_ABS, ETH_HLEN + 16), // 2: A = the IPv4 destination address
            jump(JEQ_K, src, 0, 1),       // 3: ours → keep (4), else drop (5)
            stmt(RET_K, KEEP_ALL),        // 4: keep
            stmt(RET_K, 0),               // 5: drop
        ],
        Replies::Arp => vec![
            stmt(LDH_ABS, ETH_TYPE_AT),   // 0: A = the EtherType
            jump(JEQ_K, 0x0806, 0, 5),    // 1: ARP → 2, else drop (7)
            stmt(LDH_ABS, ETH_HLEN + 6),  // 2: A = the ARP operation
            jump(JEQ_K, 2, 0, 3),         // 3: a reply → 4, else drop (7)
            stmt(LDW_ABS, ETH_HLEN + 24), // 4: A = the target protocol address (6-byte MACs, 4-byte IPv4)
            jump(JEQ_K, src, 0, 1),       // 5: ours → keep (6), else drop (7)
            stmt(RET_K, KEEP_ALL),        // 6: keep
            stmt(RET_K, 0),               // 7: drop
        ],
        Replies::Ipv6 => vec![stmt(RET_K, 0)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::arp;
    use crate::packet::template::{Probe, TcpTemplate, FRAME_LEN};
    use crate::packet::template6::{Probe6, Tcp6Template};
    use pnet_base::MacAddr;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// The kernel's classic BPF semantics for the opcodes above: a load past the frame's
    /// end drops it.
    fn run(prog: &[libc::sock_filter], frame: &[u8]) -> u32 {
        let (mut a, mut pc) = (0u32, 0usize);
        loop {
            let i = prog[pc];
            let k = i.k as usize;
            match i.code {
                bpf::LDH_ABS => match frame.get(k..k + 2) {
                    Some(b) => a = u16::from_be_bytes([b[0], b[1]]) as u32,
                    None => return 0,
                },
                bpf::LDW_ABS => match frame.get(k..k + 4) {
                    Some(b) => a = u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                    None => return 0,
                },
                bpf::JEQ_K => pc += if a == i.k { i.jt } else { i.jf } as usize,
                bpf::RET_K => return i.k,
                c => panic!("opcode {c:#x} not interpreted"),
            }
            pc += 1;
        }
    }

    /// What the kernel's checker asks of a program: known opcodes, jumps that land inside
    /// it, and a return as the last instruction.
    fn check(prog: &[libc::sock_filter]) {
        assert!(!prog.is_empty() && prog.len() <= 4096);
        for (pc, i) in prog.iter().enumerate() {
            assert!([bpf::LDH_ABS, bpf::LDW_ABS, bpf::JEQ_K, bpf::RET_K].contains(&i.code));
            if i.code == bpf::JEQ_K {
                assert!(pc + 1 + (i.jt.max(i.jf) as usize) < prog.len(), "jump out of the program at {pc}");
            }
        }
        assert_eq!(prog.last().map(|i| i.code), Some(bpf::RET_K));
    }

    const ME: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const TARGET: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn tcp(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let t = TcpTemplate::new(MacAddr::new(2, 0, 0, 0, 0, 1), src, 64, 1024, 0x12);
        let mut out = [0u8; FRAME_LEN];
        let p = Probe { dst_mac: MacAddr::new(2, 0, 0, 0, 0, 2), dst, dport: 40000, sport: 80, seq: 1, ip_id: 1 };
        let n = t.write(&p, &mut out);
        out[..n].to_vec()
    }

    #[test]
    fn opcodes_are_the_kernels() {
        assert_eq!((bpf::LDH_ABS, bpf::LDW_ABS, bpf::JEQ_K, bpf::RET_K), (0x28, 0x20, 0x15, 0x06));
        let p = reply_filter(Replies::Ipv4, ME);
        assert_eq!((p[3].code, p[3].k, p[3].jt, p[3].jf), (0x15, 0xC612_0001, 0, 1), "the address compares as a big-endian word");
    }

    #[test]
    fn keeps_ipv4_addressed_to_the_source_only() {
        let p = reply_filter(Replies::Ipv4, ME);
        check(&p);
        assert_eq!(run(&p, &tcp(TARGET, ME)), KEEP_ALL, "a reply to us");
        assert_eq!(run(&p, &tcp(TARGET, Ipv4Addr::new(198, 18, 0, 3))), 0, "to another host");
        assert_eq!(run(&p, &tcp(ME, TARGET)), 0, "our own probe or RST");
        let mut v6 = tcp(TARGET, ME);
        v6[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(run(&p, &v6), 0, "not IPv4");
        assert_eq!(run(&p, &tcp(TARGET, ME)[..33]), 0, "cut short before the address");
        let req = arp::request(MacAddr::new(2, 0, 0, 0, 0, 2), TARGET, ME);
        assert_eq!(run(&p, &req), 0, "ARP in an IPv4 scan");
    }

    fn tcp6(src: &str, dst: &str) -> Vec<u8> {
        let t = Tcp6Template::new(MacAddr::new(2, 0, 0, 0, 0, 1), src.parse().unwrap(), 64, 1024, 0x12);
        let mut out = [0u8; 128];
        let p = Probe6 { dst_mac: MacAddr::new(2, 0, 0, 0, 0, 2), dst: dst.parse().unwrap(), dport: 40000, sport: 80, seq: 1 };
        let n = t.write(&p, &mut out);
        out[..n].to_vec()
    }

    #[test]
    fn keeps_ipv6_addressed_to_the_source_only() {
        let me: Ipv6Addr = "2001:2::1".parse().unwrap();
        let p = reply_filter(Replies::Ipv6, me);
        check(&p);
        assert_eq!(run(&p, &tcp6("2001:2:0:1::9", "2001:2::1")), KEEP_ALL, "a reply to us");
        // each word of the address must match
        for other in ["2001:3::1", "2001:2:1::1", "2001:2:0:0:1::1", "2001:2::2"] {
            assert_eq!(run(&p, &tcp6("2001:2::2", other)), 0, "to {other}");
        }
        assert_eq!(run(&p, &tcp6("2001:2::1", "2001:2::2")), 0, "our own probe");
        assert_eq!(run(&p, &tcp(TARGET, ME)), 0, "IPv4 in an IPv6 scan");
        assert_eq!(run(&p, &tcp6("2001:2::2", "2001:2::1")[..14 + 38]), 0, "cut short");
        // families that do not match the replies drop everything
        assert_eq!(reply_filter(Replies::Ipv4, me).len(), 1);
        assert_eq!(run(&reply_filter(Replies::Ipv6, ME), &tcp6("2001:2::2", "2001:2::1")), 0);
    }

    #[test]
    fn keeps_arp_replies_to_the_source_only() {
        let p = reply_filter(Replies::Arp, ME);
        check(&p);
        let me_mac = MacAddr::new(2, 0, 0, 0, 0, 1);
        let request = arp::request(me_mac, ME, TARGET);
        assert_eq!(run(&p, &request), 0, "our own request");
        // the target's reply: "198.18.0.2 is-at ..., to 198.18.0.1"
        let mut reply = arp::request(MacAddr::new(2, 0, 0, 0, 0, 2), TARGET, ME);
        reply[21] = 2;
        assert_eq!(run(&p, &reply), KEEP_ALL);
        let mut elsewhere = arp::request(MacAddr::new(2, 0, 0, 0, 0, 2), TARGET, Ipv4Addr::new(198, 18, 0, 9));
        elsewhere[21] = 2;
        assert_eq!(run(&p, &elsewhere), 0, "a reply to another host");
        assert_eq!(run(&p, &tcp(TARGET, ME)), 0, "IPv4 in an ARP scan");
    }

    /// A block whose count says more frames than its chain holds (found by fuzzing: a zero
    /// next offset kept yielding the first frame, 2^31 times): the walk ends at the chain's end.
    #[test]
    fn a_zero_next_offset_ends_the_walk() {
        let mut b = vec![0u8; 256];
        b[BLOCK_NUM_PKTS_AT..BLOCK_NUM_PKTS_AT + 4].copy_from_slice(&0x8800_0000u32.to_ne_bytes());
        b[BLOCK_FIRST_AT..BLOCK_FIRST_AT + 4].copy_from_slice(&48u32.to_ne_bytes());
        let h = 48;
        b[h + offset_of!(libc::tpacket3_hdr, tp_snaplen)..][..4].copy_from_slice(&14u32.to_ne_bytes());
        b[h + offset_of!(libc::tpacket3_hdr, tp_mac)..][..2].copy_from_slice(&80u16.to_ne_bytes());
        let frames: Vec<Frame<'_>> = frames_in(&b).collect();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].data.len(), 14);
    }

    #[test]
    fn the_kernel_accepts_the_programs() {
        // SO_ATTACH_FILTER takes classic BPF on any socket and checks it like a packet
        // socket's; a UDP socket needs no privilege and is never used to send.
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for (r, src) in [(Replies::Ipv4, IpAddr::V4(ME)), (Replies::Arp, IpAddr::V4(ME)), (Replies::Ipv6, "2001:2::1".parse().unwrap())] {
            let p = reply_filter(r, src);
            let prog = libc::sock_fprog { len: p.len() as u16, filter: p.as_ptr() as *mut libc::sock_filter };
            // SAFETY: prog points at p, alive for the call; the size passed is prog's
            let rc = unsafe {
                libc::setsockopt(
                    s.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_ATTACH_FILTER,
                    &prog as *const _ as *const libc::c_void,
                    size_of::<libc::sock_fprog>() as u32,
                )
            };
            assert_eq!(rc, 0, "{r:?}: {}", io::Error::last_os_error());
        }
    }

    #[test]
    fn layout_offsets() {
        assert_eq!(SLL_AT, 48);
        assert_eq!((BLOCK_STATUS_AT, BLOCK_NUM_PKTS_AT, BLOCK_FIRST_AT), (8, 12, 16));
        assert_eq!(offset_of!(libc::tpacket3_hdr, tp_mac), 24);
        assert_eq!(offset_of!(libc::sockaddr_ll, sll_pkttype), 10);
    }

    /// A real ring on the loopback device (needs CAP_NET_RAW; skipped without it): a UDP
    /// datagram from 127.0.0.1 to 127.0.0.1 arrives once, incoming, in place and whole.
    #[test]
    fn receives_loopback_frames_once() {
        let sock = match PacketSocket::open("lo", 0x0800) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("skipped: {e}");
                return;
            }
        };
        let lo = Ipv4Addr::LOCALHOST;
        sock.attach_filter(&reply_filter(Replies::Ipv4, lo)).unwrap();
        let ignoring = sock.ignore_outgoing();
        let g = RingGeometry { block_size: 1 << 16, block_nr: 4, frame_size: 2048, retire_ms: 2 };
        let mut ring = RxRing::new(sock, g).unwrap();
        assert_eq!(ring.geometry(), g);
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut tag = [0u8; 16];
        getrandom::getrandom(&mut tag).unwrap();
        a.send_to(&tag, b.local_addr().unwrap()).unwrap();
        let (mut incoming, mut outgoing) = (0, 0);
        let until = std::time::Instant::now() + Duration::from_secs(2);
        while incoming == 0 && std::time::Instant::now() < until {
            let Some(block) = ring.next_block(Duration::from_millis(10)).unwrap() else {
                continue;
            };
            for f in block.frames() {
                if f.data.len() >= 42 + 16 && f.data[42..58] == tag {
                    assert_eq!(f.data.len(), 14 + 20 + 8 + 16);
                    assert!(f.sec > 0);
                    match f.direction {
                        Direction::Incoming => incoming += 1,
                        Direction::Outgoing => outgoing += 1,
                    }
                }
            }
        }
        assert_eq!(incoming, 1);
        if ignoring {
            assert_eq!(outgoing, 0, "PACKET_IGNORE_OUTGOING took, yet our own frame came back");
        }
    }
}
