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

/// What happens to the first request with the armed API key.
#[derive(Debug)]
pub enum Fault {
    /// Forward it, but hold every answer on that connection for this long
    /// (the broker acts, the client does not hear), and tell the test at
    /// once (which may then freeze the broker as well).
    LoseAnswers(Duration, oneshot::Sender<()>),
    /// Hold it (and everything behind it on that connection) this long
    /// before forwarding it: the client waits without an answer while the
    /// broker never heard the request.
    Hold(Duration),
}

#[derive(Debug, Default)]
struct Armed {
    fault: Option<(ApiKey, Fault)>,
}

/// Forwards every connection on its port to the broker's real listener.
#[derive(Debug, Clone)]
pub struct KafkaProxy {
    port: u16,
    armed: Arc<Mutex<Armed>>,
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
        let armed = Arc::new(Mutex::new(Armed::default()));
        let proxy = Self { port, armed };
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

    /// Arms `fault` for the next request with `api_key` (once).
    pub fn arm(&self, api_key: ApiKey, fault: Fault) {
        self.armed.lock().expect("proxy lock").fault = Some((api_key, fault));
    }

    /// Whether the armed fault has not fired yet.
    pub fn is_armed(&self) -> bool {
        self.armed.lock().expect("proxy lock").fault.is_some()
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
            match self.take_fault(api_key) {
                Some(Fault::Hold(delay)) => {
                    eprintln!("kafka proxy: holding request {api_key:?} for {delay:?}");
                    tokio::time::sleep(delay).await;
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

    fn take_fault(&self, api_key: Option<i16>) -> Option<Fault> {
        let mut armed = self.armed.lock().expect("proxy lock");
        match (&armed.fault, api_key) {
            (Some((key, _)), Some(seen)) if *key as i16 == seen => {
                armed.fault.take().map(|(_, fault)| fault)
            }
            _ => None,
        }
    }
}
