//! What goes on the wire, seen by a stand-in service that records the
//! request: the bearer token on every request, the idempotency key on every
//! write (the given one, else a fresh UUID per invocation).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use crate::common::eventbank_alone;

/// Serves one request with `body` (200, JSON) and returns the request's
/// head, lowercased.
fn serve_once(listener: TcpListener, body: &'static str) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read");
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line.to_ascii_lowercase());
        }
        let mut request_body = vec![0; length];
        reader.read_exact(&mut request_body).expect("body");
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("answer");
        head
    })
}

fn stand_in(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (url, serve_once(listener, body))
}

const ACCOUNT: &str = "00000000-0000-4000-8000-0000000000aa";

#[test]
fn a_write_carries_the_token_and_the_given_idempotency_key() {
    let (url, server) = stand_in(r#"{"account_id":"x","version":2,"balance":5}"#);
    let run = eventbank_alone(&[
        "deposit",
        ACCOUNT,
        "5",
        "--account-command-url",
        &url,
        "--token",
        "s3cret",
        "--idempotency-key",
        "key-1",
    ]);
    run.ok();
    let head = server.join().expect("server");
    assert!(
        head.starts_with(&format!("post /accounts/{ACCOUNT}/deposits ")),
        "{head}"
    );
    assert!(head.contains("authorization: bearer s3cret\r\n"), "{head}");
    assert!(head.contains("idempotency-key: key-1\r\n"), "{head}");
}

#[test]
fn without_a_key_each_write_gets_a_fresh_uuid_and_reads_carry_the_token() {
    let (url, server) = stand_in(r#"{"account_id":"x","version":2,"balance":5}"#);
    eventbank_alone(&["withdraw", ACCOUNT, "5", "--account-command-url", &url]).ok();
    let head = server.join().expect("server");
    let key = head
        .lines()
        .find_map(|line| line.strip_prefix("idempotency-key: "))
        .expect("an idempotency key");
    assert!(uuid::Uuid::parse_str(key.trim()).is_ok(), "{key}");
    assert!(
        !head.contains("authorization:"),
        "no token, no header: {head}"
    );

    let (url, server) = stand_in(r#"{"accounts":[]}"#);
    let run = eventbank_alone(&["accounts", "--balance-projector-url", &url, "--token", "t"]);
    run.ok();
    let head = server.join().expect("server");
    assert!(head.starts_with("get /accounts?limit=50 "), "{head}");
    assert!(head.contains("authorization: bearer t\r\n"), "{head}");
    assert!(
        !head.contains("idempotency-key"),
        "reads carry no key: {head}"
    );
}
