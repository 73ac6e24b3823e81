//! A raw AF_PACKET socket bound to one interface: whole Ethernet frames out (in batches
//! with sendmmsg) and in (with the packet type, so our own outgoing frames are skipped).

use crate::error::{Error, Result};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: i32,
}

/// What a received frame was, from the kernel's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Addressed to this host (or broadcast/multicast, or another host on the link).
    Incoming,
    /// Sent by this host, looped back to packet sockets.
    Outgoing,
}

pub fn ifindex(name: &str) -> Result<i32> {
    let c = CString::new(name).map_err(|_| Error::InvalidOptions(format!("bad interface name {name:?}")))?;
    // SAFETY: c is a valid NUL-terminated string
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        return Err(Error::Route(format!("no interface named {name}")));
    }
    Ok(i as i32)
}

impl PacketSocket {
    /// Opens a socket on `iface` receiving frames of `ethertype` (0 = receive nothing).
    pub fn open(iface: &str, ethertype: u16) -> Result<Self> {
        let ifindex = ifindex(iface)?;
        // Created receiving nothing, then bound to the interface and the EtherType at once:
        // created with the EtherType, the socket would first hook every interface, and
        // rebinding it to one would cost an RCU grace period (synchronize_net, ~10-20 ms).
        // SAFETY: plain socket(2) call; the fd is owned right after
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(Error::io("opening a raw packet socket", io::Error::last_os_error()));
        }
        // SAFETY: raw is a fresh, valid descriptor that nothing else owns
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (ethertype).to_be();
        sll.sll_ifindex = ifindex;
        // SAFETY: sll is a properly initialised sockaddr_ll of the size given
        let rc = unsafe {
            libc::bind(fd.as_raw_fd(), &sll as *const _ as *const libc::sockaddr, std::mem::size_of::<libc::sockaddr_ll>() as u32)
        };
        if rc < 0 {
            return Err(Error::io(format!("binding a packet socket to {iface}"), io::Error::last_os_error()));
        }
        Ok(Self { fd, ifindex })
    }

    pub(crate) fn setsockopt<T>(&self, level: i32, name: i32, v: &T) -> io::Result<()> {
        // SAFETY: v points to a live T of the size given
        let rc = unsafe {
            libc::setsockopt(self.fd.as_raw_fd(), level, name, v as *const T as *const libc::c_void, std::mem::size_of::<T>() as u32)
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Sends bypassing the qdisc layer where the kernel allows (a scanner wants its own pacing).
    pub fn bypass_qdisc(&self) {
        let _ = self.setsockopt(libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, &1i32);
    }

    /// A large receive buffer, so bursts of replies are not dropped while we parse.
    pub fn grow_receive_buffer(&self, bytes: i32) {
        if self.setsockopt(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &bytes).is_err() {
            let _ = self.setsockopt(libc::SOL_SOCKET, libc::SO_RCVBUF, &bytes);
        }
    }

    /// Runs the classic BPF `program` on every frame before it is queued to this socket:
    /// what it rejects is dropped in the kernel, never copied to us (SO_ATTACH_FILTER).
    pub fn attach_filter(&self, program: &[libc::sock_filter]) -> io::Result<()> {
        let len = u16::try_from(program.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // the kernel copies the program during the call and only reads it
        let prog = libc::sock_fprog { len, filter: program.as_ptr() as *mut libc::sock_filter };
        self.setsockopt(libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)
    }

    /// Stops the kernel looping this host's own outgoing frames back to this socket
    /// (PACKET_IGNORE_OUTGOING, Linux 4.20+). Returns whether it took: where it did not,
    /// those frames still arrive, marked Direction::Outgoing.
    pub fn ignore_outgoing(&self) -> bool {
        self.setsockopt(libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &1i32).is_ok()
    }

    /// The socket's pending error, cleared by reading it (SO_ERROR).
    pub fn take_error(&self) -> Option<io::Error> {
        let mut v: i32 = 0;
        let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
        // SAFETY: v and len are live and len holds v's size
        let rc = unsafe {
            libc::getsockopt(self.fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_ERROR, &mut v as *mut i32 as *mut libc::c_void, &mut len)
        };
        if rc < 0 {
            Some(io::Error::last_os_error())
        } else {
            (v != 0).then(|| io::Error::from_raw_os_error(v))
        }
    }

    pub fn set_receive_timeout(&self, d: Duration) -> Result<()> {
        let tv = libc::timeval { tv_sec: d.as_secs() as libc::time_t, tv_usec: d.subsec_micros() as libc::suseconds_t };
        self.setsockopt(libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv).map_err(|e| Error::io("setting a receive timeout", e))
    }

    /// Sends every frame; returns how many the kernel took (retrying transient ENOBUFS).
    pub fn send_batch(&self, frames: &[&[u8]]) -> Result<usize> {
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_ifindex = self.ifindex;
        sll.sll_halen = 6;
        let mut iov: Vec<libc::iovec> =
            frames.iter().map(|f| libc::iovec { iov_base: f.as_ptr() as *mut libc::c_void, iov_len: f.len() }).collect();
        let mut msgs: Vec<libc::mmsghdr> = iov
            .iter_mut()
            .map(|v| {
                // SAFETY: an all-zero msghdr is valid; the pointers set below outlive the call
                let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                m.msg_hdr.msg_iov = v as *mut libc::iovec;
                m.msg_hdr.msg_iovlen = 1;
                m.msg_hdr.msg_name = &mut sll as *mut _ as *mut libc::c_void;
                m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
                m
            })
            .collect();
        let mut done = 0usize;
        let mut spins = 0;
        while done < msgs.len() {
            // SAFETY: msgs[done..] are initialised mmsghdrs pointing at live buffers
            let n = unsafe { libc::sendmmsg(self.fd.as_raw_fd(), msgs[done..].as_mut_ptr(), (msgs.len() - done) as u32, 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::ENOBUFS) | Some(libc::EAGAIN) | Some(libc::EINTR) if spins < 10_000 => {
                        spins += 1;
                        std::thread::yield_now();
                        continue;
                    }
                    _ => return Err(Error::io("sending packets", e)),
                }
            }
            done += n as usize;
        }
        Ok(done)
    }

    /// Receives one frame into `buf`; None on timeout.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<(usize, Direction)>> {
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        // SAFETY: buf and sll are live and their sizes are passed
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
                &mut sll as *mut _ as *mut libc::sockaddr,
                &mut len,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(None),
                _ => Err(Error::io("receiving packets", e)),
            };
        }
        let dir = if sll.sll_pkttype == libc::PACKET_OUTGOING { Direction::Outgoing } else { Direction::Incoming };
        Ok(Some((n as usize, dir)))
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A raw IP socket that takes whole datagrams (IPv4: IP_HDRINCL; IPv6: IPPROTO_RAW, which
/// implies the header is included) for the loopback device, where frames injected through
/// a packet socket are not delivered to the local stack: the kernel routes these instead.
pub struct RawIpSocket {
    fd: OwnedFd,
    v6: bool,
}

impl RawIpSocket {
    /// An IPv4 socket.
    pub fn open() -> Result<Self> {
        Self::open_family(false)
    }

    /// A socket for IPv6 datagrams.
    pub fn open6() -> Result<Self> {
        Self::open_family(true)
    }

    fn open_family(v6: bool) -> Result<Self> {
        let family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
        // SAFETY: plain socket(2) call; IPPROTO_RAW implies the header is ours (both families)
        let raw = unsafe { libc::socket(family, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::IPPROTO_RAW) };
        if raw < 0 {
            return Err(Error::io("opening a raw IP socket", io::Error::last_os_error()));
        }
        // SAFETY: raw is a fresh, valid descriptor that nothing else owns
        Ok(Self { fd: unsafe { OwnedFd::from_raw_fd(raw) }, v6 })
    }

    /// Sends one datagram to the destination in its own header.
    fn send_one(&self, dgram: &[u8]) -> Option<isize> {
        if self.v6 {
            let dst = dgram.get(24..40)?;
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as u16;
            sin6.sin6_addr.s6_addr.copy_from_slice(dst);
            // SAFETY: dgram and sin6 are live for the call and their sizes are passed
            Some(unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    dgram.as_ptr() as *const libc::c_void,
                    dgram.len(),
                    0,
                    &sin6 as *const _ as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in6>() as u32,
                )
            })
        } else {
            let dst = dgram.get(16..20)?;
            let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sin.sin_family = libc::AF_INET as u16;
            sin.sin_addr.s_addr = u32::from_ne_bytes([dst[0], dst[1], dst[2], dst[3]]);
            // SAFETY: dgram and sin are live for the call and their sizes are passed
            Some(unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    dgram.as_ptr() as *const libc::c_void,
                    dgram.len(),
                    0,
                    &sin as *const _ as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as u32,
                )
            })
        }
    }

    /// Sends the IP datagrams inside Ethernet `frames` (the 14-byte header is skipped).
    pub fn send_frames(&self, frames: &[&[u8]]) -> Result<usize> {
        let mut sent = 0;
        for f in frames {
            let Some(dgram) = f.get(14..) else { continue };
            let Some(n) = self.send_one(dgram) else {
                continue;
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if matches!(e.raw_os_error(), Some(libc::ENOBUFS) | Some(libc::EAGAIN) | Some(libc::EINTR)) {
                    std::thread::yield_now();
                    continue;
                }
                return Err(Error::io("sending packets", e));
            }
            sent += 1;
        }
        Ok(sent)
    }
}

/// Where probes leave: a packet socket on an Ethernet link, or the raw IP socket on loopback.
pub enum Sender {
    Link(PacketSocket),
    Loopback(RawIpSocket),
    /// A dry run: frames are built and counted, never sent.
    Null,
}

impl Sender {
    pub fn send(&self, frames: &[&[u8]]) -> Result<usize> {
        match self {
            Sender::Link(s) => s.send_batch(frames),
            Sender::Loopback(s) => s.send_frames(frames),
            Sender::Null => Ok(frames.len()),
        }
    }
}
