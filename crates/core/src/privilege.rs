//! Giving root up. A scan run as root needs root for one thing, opening raw sockets; once
//! they are open the process switches to an unprivileged user (the one who ran sudo, else
//! `nobody`) and keeps only the capabilities that later engine starts of the same run need:
//! CAP_NET_RAW (more raw sockets: the next discovery probe kind, the port scan, the -sU
//! scan) and CAP_NET_ADMIN (the iptables rule of `--rst-policy suppress`, removed at the end).
//! Everything else root could do — read or write any file, load modules, trace processes —
//! is gone for good: real, effective and saved IDs all change, the bounding set keeps only
//! those two, and no-new-privs stops a setuid program from handing root back.
//!
//! Threads: the ID changes go through glibc's setgroups/setresgid/setresuid, which apply
//! them to every thread of the process (Node's, libuv's, the engine's). Capabilities are
//! per thread: only the calling thread (Node's main thread, where the engine is started)
//! keeps CAP_NET_RAW/CAP_NET_ADMIN, through PR_SET_KEEPCAPS; every other thread loses all
//! of them with root. Threads the main thread starts later inherit its two capabilities.
//! Ambient capabilities (for child processes such as iptables) are raised only on request.
//!
//! Nothing here is called by the engine itself: the binding exposes it, and the TypeScript
//! side decides when (ts/engine/privilege.ts).

use crate::error::{Error, Result};
use std::ffi::{CStr, CString};

/// Capability numbers (linux/capability.h).
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;

/// A capability by its name as `capabilities(7)` spells it, with or without "cap_".
pub fn capability(name: &str) -> Option<u32> {
    match name.to_ascii_lowercase().trim_start_matches("cap_") {
        "net_admin" => Some(CAP_NET_ADMIN),
        "net_raw" => Some(CAP_NET_RAW),
        _ => None,
    }
}

/// A user account: IDs and the name its supplementary groups are listed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: Option<String>,
    pub uid: u32,
    pub gid: u32,
}

/// Looks a user up by name through the system's user database (NSS); None when unknown.
pub fn lookup_user(name: &str) -> Result<Option<Account>> {
    let cname = CString::new(name).map_err(|_| Error::Privilege(format!("user name {name:?} holds a NUL byte")))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data that getpwnam_r fills; result points into it or is null
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live storage of the sizes given
    let rc = unsafe { libc::getpwnam_r(cname.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 {
        return Err(Error::Privilege(format!("looking up user {name}: {}", std::io::Error::from_raw_os_error(rc))));
    }
    if result.is_null() {
        return Ok(None);
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside buf
    let found = unsafe { CStr::from_ptr(pwd.pw_name) }.to_string_lossy().into_owned();
    Ok(Some(Account { name: Some(found), uid: pwd.pw_uid, gid: pwd.pw_gid }))
}

/// The account's groups (getgrouplist: its primary group and every group listing it), or
/// just the primary group when it has no name.
fn groups_of(account: &Account) -> Result<Vec<libc::gid_t>> {
    let Some(name) = &account.name else { return Ok(vec![account.gid]) };
    let cname = CString::new(name.as_str()).map_err(|_| Error::Privilege(format!("user name {name:?} holds a NUL byte")))?;
    let mut n: libc::c_int = 64;
    loop {
        let mut groups = vec![0 as libc::gid_t; n as usize];
        let asked = n;
        // SAFETY: groups holds n entries; getgrouplist writes at most n and updates n
        let rc = unsafe { libc::getgrouplist(cname.as_ptr(), account.gid, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(n as usize);
            return Ok(groups);
        }
        if n <= asked {
            n = asked * 2;
        }
        if n > 65_536 {
            return Err(Error::Privilege(format!("user {name} is in too many groups")));
        }
    }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

fn os_error(what: &str) -> Error {
    Error::Privilege(format!("{what}: {}", std::io::Error::last_os_error()))
}

fn check(rc: libc::c_int, what: &str) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(os_error(what))
    }
}

/// Sets this thread's effective, permitted and (when `inheritable`) inheritable sets to `caps`.
fn set_capabilities(caps: &[u32], inheritable: bool) -> Result<()> {
    let mut data = [CapData::default(); 2];
    for &c in caps {
        let (word, bit) = ((c / 32) as usize, 1u32 << (c % 32));
        data[word].effective |= bit;
        data[word].permitted |= bit;
        if inheritable {
            data[word].inheritable |= bit;
        }
    }
    let header = CapHeader { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    // SAFETY: header and data are the layouts capset(2) takes for version 3 (two data words)
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) };
    check(rc as libc::c_int, "setting capabilities")
}

/// Drops every capability but `keep` from this thread's bounding set (needs CAP_SETPCAP,
/// so before the IDs change). Stops at the first number this kernel does not know.
fn limit_bounding_set(keep: &[u32]) -> Result<()> {
    for cap in 0..64u32 {
        if keep.contains(&cap) {
            continue;
        }
        // SAFETY: prctl with integer arguments only
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } != 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
                return Ok(());
            }
            return Err(os_error("limiting the capability bounding set"));
        }
    }
    Ok(())
}

/// What the process is once root is given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// Switches the whole process from root to `account`, keeping `keep` (CAP_NET_RAW,
/// CAP_NET_ADMIN) on the calling thread, raised as ambient capabilities too when `ambient`
/// (so child processes such as iptables have them). Must be called as root, from the
/// thread that starts later scans. After an error the process may be half changed: the
/// caller must not go on scanning.
pub fn drop_to(account: &Account, keep: &[u32], ambient: bool) -> Result<Dropped> {
    // SAFETY: plain getters
    if unsafe { libc::geteuid() } != 0 {
        return Err(Error::Privilege("not running as root".into()));
    }
    if account.uid == 0 {
        return Err(Error::Privilege("the unprivileged user cannot be root".into()));
    }
    if let Some(&bad) = keep.iter().find(|&&c| c >= 64) {
        return Err(Error::Privilege(format!("no capability number {bad}")));
    }
    let groups = groups_of(account)?;
    limit_bounding_set(keep)?;
    // SAFETY: prctl, setgroups, setresgid and setresuid with valid arguments; glibc applies
    // the ID calls to every thread of the process
    unsafe {
        check(libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0), "keeping capabilities across the user change")?;
        check(libc::setgroups(groups.len(), groups.as_ptr()), "setting the supplementary groups")?;
        check(libc::setresgid(account.gid, account.gid, account.gid), "changing the group")?;
        check(libc::setresuid(account.uid, account.uid, account.uid), "changing the user")?;
    }
    set_capabilities(keep, ambient)?;
    // SAFETY: prctl with integer arguments only
    unsafe {
        check(libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0), "clearing keep-capabilities")?;
        if ambient {
            for &c in keep {
                let raise = libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong, c as libc::c_ulong, 0, 0);
                check(raise, "raising an ambient capability")?;
            }
        }
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no-new-privileges")?;
    }
    verify(account)?;
    Ok(Dropped { uid: account.uid, gid: account.gid, groups })
}

/// Root must be gone for good: every ID is the account's and setuid(0) fails.
fn verify(account: &Account) -> Result<()> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: getresuid writes three IDs
    check(unsafe { libc::getresuid(&mut r, &mut e, &mut s) }, "reading the user IDs")?;
    if [r, e, s] != [account.uid; 3] {
        return Err(Error::Privilege(format!("user IDs are {r}/{e}/{s}, not {}", account.uid)));
    }
    // SAFETY: setuid(0) must fail now; if it did not, the process is root again and says so
    if unsafe { libc::setuid(0) } == 0 {
        return Err(Error::Privilege("root could be taken back".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_capabilities_as_capabilities_7_does() {
        assert_eq!(capability("net_raw"), Some(CAP_NET_RAW));
        assert_eq!(capability("CAP_NET_ADMIN"), Some(CAP_NET_ADMIN));
        assert_eq!(capability("sys_admin"), None, "only what a scan needs");
    }

    #[test]
    fn looks_users_up() {
        let root = lookup_user("root").unwrap().expect("every system has root");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(lookup_user("no-such-user-ferroscan").unwrap(), None);
        assert!(lookup_user("bad\0name").is_err());
    }

    #[test]
    fn lists_groups() {
        let root = lookup_user("root").unwrap().unwrap();
        assert!(groups_of(&root).unwrap().contains(&0));
        let nameless = Account { name: None, uid: 4242, gid: 4343 };
        assert_eq!(groups_of(&nameless).unwrap(), vec![4343]);
    }

    #[test]
    fn refuses_root_as_the_target() {
        // Refused before anything changes, so the test process keeps its IDs.
        let root = Account { name: Some("root".into()), uid: 0, gid: 0 };
        assert!(drop_to(&root, &[CAP_NET_RAW], false).is_err());
        assert!(drop_to(&Account { name: None, uid: 1, gid: 1 }, &[64], false).is_err());
    }
}
