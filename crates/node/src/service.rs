//! The binding of service detection (-sV): plain options in, batches of plain result
//! objects out. The engine (ferroscan_core::service) runs on its own thread with its own
//! tokio runtime; this file only converts and passes results along.

use ferroscan_core::service::{self, Db, Job, Options, Proto, ServiceResult};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{mpsc, Mutex as AsyncMutex};

/// One port to identify.
#[napi(object)]
pub struct NativeServiceTarget {
    /// IPv4 or IPv6 address, as text.
    pub address: String,
    pub port: u32,
    #[napi(ts_type = "'tcp' | 'udp'")]
    pub protocol: String,
}

/// Options of one service scan.
#[napi(object)]
pub struct NativeServiceOptions {
    /// Path of nmap's nmap-service-probes (--versiondb); Debian's when absent.
    pub db_path: Option<String>,
    pub targets: Vec<NativeServiceTarget>,
    /// --version-intensity, 0-9; 7 when absent.
    pub intensity: Option<u32>,
    /// --allports: also probe the ports the database's Exclude directive names.
    pub all_ports: Option<bool>,
    /// --version-trace: each result carries nmap's trace lines.
    pub trace: Option<bool>,
    /// --version-parallelism: connections open at once over all ports (default 512).
    pub parallelism: Option<u32>,
    /// Probes one port may have running at once (default 64: every TCP probe of intensity 7 at once).
    pub per_port: Option<u32>,
}

/// The answer for one target (by its index in `targets`).
#[napi(object)]
pub struct NativeServiceResult {
    pub index: u32,
    #[napi(ts_type = "'hardmatched' | 'softmatched' | 'nomatch' | 'tcpwrapped' | 'incomplete' | 'excluded'")]
    pub state: String,
    /// The service name; absent means nmap would take the port table's name (method "table").
    pub name: Option<String>,
    /// "ssl" when the service was found inside TLS.
    pub tunnel: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub extrainfo: Option<String>,
    pub hostname: Option<String>,
    pub ostype: Option<String>,
    pub devicetype: Option<String>,
    pub cpe: Vec<String>,
    /// The SF-Port… fingerprint nmap would print (with its "\nSF:" line breaks).
    pub fingerprint: Option<String>,
    #[napi(ts_type = "'probed' | 'table'")]
    pub method: String,
    pub conf: u32,
    /// Whether any probe got data back (an open|filtered UDP port is then open).
    pub responded: bool,
    /// --version-trace lines, in nmap's order.
    pub trace: Vec<String>,
}

fn to_js(index: usize, r: ServiceResult) -> NativeServiceResult {
    use service::ProbeState::*;
    NativeServiceResult {
        index: index as u32,
        state: match r.state {
            HardMatched => "hardmatched",
            SoftMatched => "softmatched",
            NoMatch => "nomatch",
            Tcpwrapped => "tcpwrapped",
            Incomplete => "incomplete",
            Excluded => "excluded",
        }
        .into(),
        name: r.name,
        tunnel: r.ssl.then(|| "ssl".to_string()),
        product: r.product,
        version: r.version,
        extrainfo: r.extrainfo,
        hostname: r.hostname,
        ostype: r.ostype,
        devicetype: r.devicetype,
        cpe: r.cpe,
        fingerprint: r.fingerprint,
        method: r.method.into(),
        conf: r.conf as u32,
        responded: r.responded,
        trace: r.trace,
    }
}

/// Parsed databases by path, shared by every scan of the process: parsing and compiling
/// nmap's ~12,000 patterns takes about half a second, which `preloadServiceDb` lets the CLI
/// spend while the port scan runs.
type DbCell = Arc<OnceLock<std::result::Result<Arc<Db>, String>>>;
static DBS: Mutex<Option<HashMap<String, DbCell>>> = Mutex::new(None);

fn db_cell(path: &str) -> DbCell {
    let mut g = DBS.lock().unwrap_or_else(|p| p.into_inner());
    g.get_or_insert_with(HashMap::new).entry(path.to_string()).or_default().clone()
}

/// The database at `path`, parsed once (a second caller waits for the first).
fn load_db(path: &str) -> std::result::Result<Arc<Db>, String> {
    db_cell(path).get_or_init(|| Db::load(std::path::Path::new(path)).map(Arc::new).map_err(|e| format!("EINVAL: {e}"))).clone()
}

/// Starts parsing the probe database in the background, so that a later
/// `startServiceScan` with the same path finds it ready. Errors surface there.
#[napi(catch_unwind)]
pub fn preload_service_db(db_path: Option<String>) {
    let path = db_path.unwrap_or_else(|| service::DEFAULT_DB.to_string());
    let _ = std::thread::Builder::new().name("ferroscan-sv-db".into()).spawn(move || {
        let _ = std::panic::catch_unwind(|| load_db(&path));
    });
}

enum Event {
    Result(usize, Box<ServiceResult>),
    Done(std::result::Result<(), String>),
}

/// A running service scan; results are pulled with `nextResults()`.
#[napi]
pub struct NativeServiceScan {
    abort: Arc<AtomicBool>,
    done: AtomicBool,
    events: AsyncMutex<mpsc::UnboundedReceiver<Event>>,
}

#[napi]
impl NativeServiceScan {
    /// The results finished since the last call (at least one), or null when the scan is
    /// over. Rejects with the engine's error ("EINVAL: nmap-service-probes line N: ...").
    #[napi(ts_return_type = "Promise<NativeServiceResult[] | null>")]
    pub async fn next_results(&self) -> Result<Option<Vec<NativeServiceResult>>> {
        if self.done.load(Ordering::Acquire) {
            return Ok(None);
        }
        let mut rx = self.events.lock().await;
        let mut out = Vec::new();
        let first = rx.recv().await;
        let mut ev = first;
        loop {
            match ev {
                Some(Event::Result(i, r)) => out.push(to_js(i, *r)),
                Some(Event::Done(Ok(()))) => {
                    self.done.store(true, Ordering::Release);
                    break;
                }
                Some(Event::Done(Err(e))) => {
                    self.done.store(true, Ordering::Release);
                    return Err(Error::from_reason(e));
                }
                None => {
                    self.done.store(true, Ordering::Release);
                    if out.is_empty() {
                        return Err(Error::from_reason("EINTERNAL: the service scan stopped without finishing"));
                    }
                    break;
                }
            }
            match rx.try_recv() {
                Ok(e) => ev = Some(e),
                Err(_) => break,
            }
        }
        Ok(if out.is_empty() { None } else { Some(out) })
    }

    /// Asks the engine to stop; nextResults() then resolves null.
    #[napi(catch_unwind)]
    pub fn abort(&self) {
        self.abort.store(true, Ordering::Release);
    }
}

/// Starts a service scan on its own thread. Throws "ENOENT: ..." (one line naming the
/// package to install) when the probe database is missing, "EINVAL: ..." for bad options.
#[napi(catch_unwind)]
pub fn start_service_scan(options: NativeServiceOptions) -> Result<NativeServiceScan> {
    let path = options.db_path.clone().unwrap_or_else(|| service::DEFAULT_DB.to_string());
    if !std::path::Path::new(&path).is_file() {
        return Err(Error::new(Status::InvalidArg, format!("ENOENT: {}", service::missing_db_message(&path))));
    }
    let mut jobs = Vec::with_capacity(options.targets.len());
    for t in &options.targets {
        let addr: IpAddr =
            t.address.parse().map_err(|_| Error::new(Status::InvalidArg, format!("EINVAL: not an IP address: {}", t.address)))?;
        let port = u16::try_from(t.port).map_err(|_| Error::new(Status::InvalidArg, format!("EINVAL: port out of range: {}", t.port)))?;
        let proto = match t.protocol.as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            p => return Err(Error::new(Status::InvalidArg, format!("EINVAL: protocol must be tcp or udp, not {p}"))),
        };
        jobs.push(Job { addr, port, proto });
    }
    let intensity = options.intensity.unwrap_or(7);
    if intensity > 9 {
        return Err(Error::new(Status::InvalidArg, "EINVAL: version intensity must be between 0 and 9"));
    }
    let defaults = Options::default();
    let opts = Options {
        intensity: intensity as u8,
        all_ports: options.all_ports.unwrap_or(false),
        trace: options.trace.unwrap_or(false),
        parallelism: options.parallelism.map_or(defaults.parallelism, |p| p.max(1) as usize),
        per_port: options.per_port.map_or(defaults.per_port, |p| p.max(1) as usize),
        ahead_after_ms: defaults.ahead_after_ms,
    };
    let abort = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::unbounded_channel();
    let flag = abort.clone();
    std::thread::Builder::new()
        .name("ferroscan-sv".into())
        .spawn(move || {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let db = load_db(&path)?;
                let tx2 = tx.clone();
                service::detect(db, &jobs, &opts, flag, &mut |i, r| {
                    let _ = tx2.send(Event::Result(i, Box::new(r)));
                })
                .map_err(|e| format!("EIO: service scan: {e}"))
            }));
            let done = match run {
                Ok(r) => r,
                Err(_) => Err("EINTERNAL: the service scan panicked".to_string()),
            };
            let _ = tx.send(Event::Done(done));
        })
        .map_err(|e| Error::from_reason(format!("EIO: starting the service scan: {e}")))?;
    Ok(NativeServiceScan { abort, done: AtomicBool::new(false), events: AsyncMutex::new(rx) })
}
