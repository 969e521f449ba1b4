//! `perf record` of account-command during one HTTP stage, and the flat
//! reports written next to the results (if perf is installed).

use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) struct Perf {
    child: std::process::Child,
    data: PathBuf,
}

/// `perf record -g` on `pid` for `duration` (if perf is installed).
pub(super) fn start_perf(out: &Path, pid: u32, duration: Duration) -> Option<Perf> {
    let data = out.join("perf-account-command.data");
    let child = std::process::Command::new("perf")
        .args(["record", "-g", "-F", "499", "-o"])
        .arg(&data)
        .args(["-p", &pid.to_string(), "--", "sleep"])
        .arg(duration.as_secs().max(1).to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|err| eprintln!("[bench] perf not available: {err}"))
        .ok()?;
    Some(Perf { child, data })
}

/// Waits for `perf record` to end and writes two flat reports next to the
/// results: CPU by thread (which of librdkafka's, tokio's or the processor's
/// threads burn it) and by symbol.
pub(super) async fn finish_perf(perf: Perf, out: &Path) {
    let Perf { mut child, data } = perf;
    let reports = tokio::task::spawn_blocking(move || {
        let _ = child.wait();
        let report = |sort: &str| {
            std::process::Command::new("perf")
                .args([
                    "report",
                    "--stdio",
                    "--no-children",
                    "--percent-limit",
                    "0.5",
                ])
                .args(["-g", "none", "--sort", sort, "-i"])
                .arg(&data)
                .output()
        };
        Ok::<_, std::io::Error>((report("comm")?, report("dso,symbol")?))
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r);
    match reports {
        Ok((by_thread, by_symbol)) if by_thread.status.success() && by_symbol.status.success() => {
            let path = out.join("perf-account-command.txt");
            let mut text = by_thread.stdout;
            text.extend_from_slice(b"\n");
            text.extend_from_slice(&by_symbol.stdout);
            if std::fs::write(&path, text).is_ok() {
                println!("[bench] profile of account-command: {}", path.display());
            }
        }
        Ok((by_thread, _)) => eprintln!(
            "[bench] perf report failed: {}",
            String::from_utf8_lossy(&by_thread.stderr)
        ),
        Err(err) => eprintln!("[bench] perf report failed: {err}"),
    }
}
