//! A TCP proxy in front of a private broker that understands just enough of
//! the Kafka protocol (each request is a length-prefixed frame starting with
//! its API key) to inject a fault at one exact moment — "the first time a
//! client asks to commit a transaction" — instead of at a random one. The
//! broker advertises the proxy's address, so every client connection after
//! bootstrap goes through it too.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Kafka API keys a test may arm a fault on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i16)]
pub enum ApiKey {
    Produce = 0,
    AddOffsetsToTxn = 25,
    /// The commit (or abort) of a transaction.
    EndTxn = 26,
    TxnOffsetCommit = 28,
}

/// Which request a fault fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The first request with this API key.
    Api(ApiKey),
    /// The first `EndTxn` that commits (not one that aborts): an abort held
    /// or lost is a different fault, which a commit test must not mistake
    /// for its own.
    Commit,
}

impl From<ApiKey> for Trigger {
    fn from(key: ApiKey) -> Self {
        Self::Api(key)
    }
}

impl Trigger {
    fn matches(self, frame: &[u8]) -> bool {
        let api_key = frame.get(4..6).map(|b| i16::from_be_bytes([b[0], b[1]]));
        match self {
            Self::Api(key) => api_key == Some(key as i16),
            Self::Commit => {
                api_key == Some(ApiKey::EndTxn as i16) && end_txn_commits(&frame[4..]) == Some(true)
            }
        }
    }
}

/// The `committed` flag of an EndTxn request (`request` without its size
/// prefix), or `None` if it cannot be read. Header v1 (v2, with tagged
/// fields, from EndTxn v3); body: transactional id, producer id (8 bytes),
/// epoch (2), committed (1).
fn end_txn_commits(request: &[u8]) -> Option<bool> {
    let mut at = 0usize;
    let take = |at: &mut usize, n: usize| -> Option<&[u8]> {
        let bytes = request.get(*at..*at + n)?;
        *at += n;
        Some(bytes)
    };
    let uvarint = |at: &mut usize| -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *request.get(*at)?;
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    };
    take(&mut at, 2)?; // api key
    let version = take(&mut at, 2).map(|b| i16::from_be_bytes([b[0], b[1]]))?;
    take(&mut at, 4)?; // correlation id
    let client_id_len = take(&mut at, 2).map(|b| i16::from_be_bytes([b[0], b[1]]))?;
    take(&mut at, usize::try_from(client_id_len.max(0)).ok()?)?;
    let flexible = version >= 3;
    if flexible {
        for _ in 0..uvarint(&mut at)? {
            uvarint(&mut at)?;
            let size = uvarint(&mut at)?;
            take(&mut at, usize::try_from(size).ok()?)?;
        }
        let len_plus_one = uvarint(&mut at)?;
        take(&mut at, usize::try_from(len_plus_one.checked_sub(1)?).ok()?)?;
    } else {
        let len = take(&mut at, 2).map(|b| i16::from_be_bytes([b[0], b[1]]))?;
        take(&mut at, usize::try_from(len).ok()?)?;
    }
    take(&mut at, 10)?; // producer id, producer epoch
    take(&mut at, 1).map(|b| b[0] != 0)
}

/// What happens to the first request the trigger matches.
#[derive(Debug)]
pub enum Fault {
    /// Forward it, but hold every answer on that connection for this long
    /// (the broker acts, the client does not hear), and tell the test at
    /// once (which may then freeze the broker as well).
    LoseAnswers(Duration, oneshot::Sender<()>),
    /// Hold it (and everything behind it on that connection) this long
    /// before forwarding it: the client waits without an answer while the
    /// broker never heard the request. Requests the same trigger matches
    /// meanwhile (the client's own resends, on new connections) are held
    /// until the same moment, so the broker hears none of them before then.
    Hold(Duration),
    /// A request matched while a `Hold` is in force (internal).
    #[doc(hidden)]
    HeldUntil(Instant),
}

/// Forwards every connection on its port to the broker's real listener.
#[derive(Debug, Clone)]
pub struct KafkaProxy {
    port: u16,
    armed: Arc<Mutex<Option<(Trigger, Fault)>>>,
    /// After a `Hold` fired: what it matched, and until when it holds.
    holding: Arc<Mutex<Option<(Trigger, Instant)>>>,
}

impl KafkaProxy {
    /// Binds a free port now; forwarding to `upstream_port` starts at once
    /// (connections made before the broker listens fail like a refused
    /// connection, which clients retry).
    pub(crate) fn start(upstream_port: u16) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let port = listener.local_addr().expect("proxy address").port();
        let armed = Arc::new(Mutex::new(None));
        let proxy = Self {
            port,
            armed,
            holding: Arc::default(),
        };
        let listener = TcpListener::from_std(listener).expect("tokio listener");
        let accepting = proxy.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let proxy = accepting.clone();
                tokio::spawn(async move {
                    if let Ok(broker) = TcpStream::connect(("127.0.0.1", upstream_port)).await {
                        proxy.forward(client, broker).await;
                    }
                });
            }
        });
        proxy
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Arms `fault` for the next request `trigger` matches (once).
    pub fn arm(&self, trigger: impl Into<Trigger>, fault: Fault) {
        *self.armed.lock().expect("proxy lock") = Some((trigger.into(), fault));
    }

    /// Whether the armed fault has not fired yet.
    pub fn is_armed(&self) -> bool {
        self.armed.lock().expect("proxy lock").is_some()
    }

    async fn forward(&self, client: TcpStream, broker: TcpStream) {
        let (mut client_read, mut client_write) = client.into_split();
        let (mut broker_read, mut broker_write) = broker.into_split();
        let answers_held_until: Arc<Mutex<Option<Instant>>> = Arc::default();
        let held = Arc::clone(&answers_held_until);
        let answers = tokio::spawn(async move {
            let mut chunk = vec![0u8; 64 * 1024];
            while let Ok(read) = broker_read.read(&mut chunk).await {
                if read == 0 {
                    break;
                }
                let until = *held.lock().expect("proxy lock");
                if let Some(until) = until {
                    tokio::time::sleep_until(until.into()).await;
                }
                if client_write.write_all(&chunk[..read]).await.is_err() {
                    break;
                }
            }
        });
        let mut frame = Vec::new();
        loop {
            let mut size = [0u8; 4];
            if client_read.read_exact(&mut size).await.is_err() {
                break;
            }
            let len = usize::try_from(i32::from_be_bytes(size)).unwrap_or(0);
            frame.clear();
            frame.extend_from_slice(&size);
            frame.resize(4 + len, 0);
            if client_read.read_exact(&mut frame[4..]).await.is_err() {
                break;
            }
            let api_key = (len >= 2).then(|| i16::from_be_bytes([frame[4], frame[5]]));
            let mut notify = None;
            match self.take_fault(&frame) {
                Some(Fault::Hold(delay)) => {
                    eprintln!("kafka proxy: holding request {api_key:?} for {delay:?}");
                    tokio::time::sleep(delay).await;
                }
                Some(Fault::HeldUntil(until)) => {
                    eprintln!("kafka proxy: holding a resent request {api_key:?} too");
                    tokio::time::sleep_until(until.into()).await;
                }
                Some(Fault::LoseAnswers(delay, tell)) => {
                    eprintln!(
                        "kafka proxy: holding answers after request {api_key:?} for {delay:?}"
                    );
                    *answers_held_until.lock().expect("proxy lock") = Some(Instant::now() + delay);
                    notify = Some(tell);
                }
                None => {}
            }
            if broker_write.write_all(&frame).await.is_err() {
                break;
            }
            if let Some(tell) = notify {
                let _ = tell.send(());
            }
        }
        answers.abort();
    }

    fn take_fault(&self, frame: &[u8]) -> Option<Fault> {
        let mut holding = self.holding.lock().expect("proxy lock");
        if let Some((trigger, until)) = *holding {
            if Instant::now() >= until {
                *holding = None;
            } else if trigger.matches(frame) {
                return Some(Fault::HeldUntil(until));
            }
        }
        let mut armed = self.armed.lock().expect("proxy lock");
        match &*armed {
            Some((trigger, _)) if trigger.matches(frame) => {
                let (trigger, fault) = armed.take()?;
                if let Fault::Hold(delay) = &fault {
                    *holding = Some((trigger, Instant::now() + *delay));
                }
                Some(fault)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An EndTxn request frame as librdkafka writes it (header v1, body
    /// non-flexible for v0-2) or flexible (v3+).
    fn end_txn(version: i16, committed: bool) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&(ApiKey::EndTxn as i16).to_be_bytes());
        body.extend_from_slice(&version.to_be_bytes());
        body.extend_from_slice(&7i32.to_be_bytes());
        body.extend_from_slice(&6i16.to_be_bytes());
        body.extend_from_slice(b"client");
        if version >= 3 {
            body.push(0); // no header tags
            body.push(4); // compact string, length 3
            body.extend_from_slice(b"tx1");
        } else {
            body.extend_from_slice(&3i16.to_be_bytes());
            body.extend_from_slice(b"tx1");
        }
        body.extend_from_slice(&42i64.to_be_bytes());
        body.extend_from_slice(&1i16.to_be_bytes());
        body.push(u8::from(committed));
        if version >= 3 {
            body.push(0);
        }
        let mut frame = i32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
        frame.extend(body);
        frame
    }

    #[test]
    fn the_commit_trigger_fires_on_commits_only() {
        for version in [0, 1, 3, 4] {
            assert!(
                Trigger::Commit.matches(&end_txn(version, true)),
                "v{version}"
            );
            assert!(
                !Trigger::Commit.matches(&end_txn(version, false)),
                "v{version}"
            );
            assert!(Trigger::Api(ApiKey::EndTxn).matches(&end_txn(version, false)));
        }
        assert!(!Trigger::Commit.matches(&[0, 0, 0, 2, 0, 26]), "truncated");
        assert!(!Trigger::Api(ApiKey::Produce).matches(&end_txn(1, true)));
    }
}
