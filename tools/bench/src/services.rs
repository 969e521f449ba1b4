//! The services as child processes: the release binaries, configured only by
//! `EVENTBANK_*` variables (README, Configuration), with their output in
//! log files, and their memory read from `/proc/<pid>/status`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

/// One running service.
#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub port: u16,
    pub log: PathBuf,
    child: Child,
    pid: u32,
}

impl Service {
    /// Starts `binary` with exactly `env` as its `EVENTBANK_*` settings (any
    /// `EVENTBANK_*` variable of this process is removed first), its output
    /// written to `log` (replaced if it exists).
    pub fn spawn(
        name: &str,
        binary: &Path,
        port: u16,
        env: &BTreeMap<String, String>,
        log: &Path,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            binary.is_file(),
            "{} is missing: build the services first (cargo build --release)",
            binary.display()
        );
        let out = File::create(log)?;
        let mut command = Command::new(binary);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("EVENTBANK_") {
                command.env_remove(key);
            }
        }
        command
            .envs(env)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = command.spawn()?;
        let pid = child.id();
        Ok(Self {
            name: name.to_owned(),
            port,
            log: log.to_owned(),
            child,
            pid,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until `GET /readyz` answers 200 (connected and caught up).
    pub async fn wait_ready(
        &mut self,
        http: &reqwest::Client,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let url = format!("{}/readyz", self.base_url());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "{} exited ({status}) before it was ready; see {}",
                    self.name,
                    self.log.display()
                );
            }
            if let Ok(response) = http.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < limit,
                "{} not ready after {limit:?}; see {}",
                self.name,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    /// SIGTERM (the service finishes or aborts its open transaction), then
    /// SIGKILL after `grace`.
    pub async fn stop(mut self, grace: Duration) -> anyhow::Result<()> {
        self.terminate(grace).await
    }

    async fn terminate(&mut self, grace: Duration) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        // `kill` rather than a signal crate: the workspace forbids unsafe code.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let started = Instant::now();
        while self.child.try_wait()?.is_none() {
            if started.elapsed() >= grace {
                self.child.kill()?;
                self.child.wait()?;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

impl Drop for Service {
    /// A service left running by a failed stage does not outlive the run.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `VmRSS` of a process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// Samples the resident memory of some processes every 200 ms and keeps the
/// peak of each, until stopped.
#[derive(Debug)]
pub struct RssPeaks {
    peaks: Arc<Mutex<BTreeMap<String, u64>>>,
    task: JoinHandle<()>,
}

impl RssPeaks {
    pub fn start(processes: Vec<(String, u32)>) -> Self {
        let peaks = Arc::new(Mutex::new(BTreeMap::new()));
        let shared = peaks.clone();
        let task = tokio::spawn(async move {
            loop {
                for (name, pid) in &processes {
                    if let Some(kib) = rss_kib(*pid)
                        && let Ok(mut peaks) = shared.lock()
                    {
                        let peak = peaks.entry(name.clone()).or_insert(0);
                        *peak = (*peak).max(kib);
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Self { peaks, task }
    }

    /// The peak of each process since the start, in KiB.
    pub fn stop(self) -> BTreeMap<String, u64> {
        self.task.abort();
        self.peaks.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`;
/// 100 on every Linux this runs on).
const TICKS_PER_SEC: u64 = 100;

/// CPU time of a process (user + system), in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields count from after it.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy and total jiffies of the whole machine (`/proc/stat`).
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let values: Vec<u64> = line
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().take(8).sum();
    // idle + iowait
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// CPU use over a stretch of time: each process's, in % of one core, and
/// the whole machine's busy share in % of all its cores.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CpuUse {
    pub percent_of_one_core: BTreeMap<String, u64>,
    pub machine_busy_percent: u64,
}

/// CPU counters at one moment, to diff with a later one.
#[derive(Debug, Clone)]
pub struct CpuSnapshot {
    at: Instant,
    processes: Vec<(String, u32, u64)>,
    machine: (u64, u64),
}

impl CpuSnapshot {
    /// Counters of `processes` (name, pid) and of the machine now. This
    /// process is included as `bench`.
    pub fn take(processes: &[(String, u32)]) -> Self {
        let mut all: Vec<(String, u32)> = processes.to_vec();
        all.push(("bench".to_owned(), std::process::id()));
        Self {
            at: Instant::now(),
            processes: all
                .into_iter()
                .map(|(name, pid)| {
                    let ticks = cpu_ticks(pid).unwrap_or(0);
                    (name, pid, ticks)
                })
                .collect(),
            machine: machine_ticks().unwrap_or((0, 0)),
        }
    }

    /// Use since this snapshot.
    pub fn since(&self) -> CpuUse {
        let elapsed_ms = u64::try_from(self.at.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut use_ = CpuUse::default();
        for (name, pid, before) in &self.processes {
            if let Some(now) = cpu_ticks(*pid) {
                let cpu_ms = now.saturating_sub(*before) * 1000 / TICKS_PER_SEC;
                use_.percent_of_one_core
                    .insert(name.clone(), cpu_ms * 100 / elapsed_ms);
            }
        }
        if let Some((busy, total)) = machine_ticks() {
            let busy = busy.saturating_sub(self.machine.0);
            let total = total.saturating_sub(self.machine.1).max(1);
            use_.machine_busy_percent = busy * 100 / total;
        }
        use_
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_cpu_time() {
        let snapshot = CpuSnapshot::take(&[]);
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        assert!(x > 0);
        let used = snapshot.since();
        assert!(used.percent_of_one_core.contains_key("bench"));
        assert!(cpu_ticks(std::process::id()).is_some());
    }

    #[test]
    fn reads_its_own_rss() {
        let kib = rss_kib(std::process::id()).expect("VmRSS of this process");
        assert!(kib > 0);
    }
}
