//! The stream API on the scenario's trail: it pages, exports as JSON lines
//! and CSV, and answers every bad request with a JSON error.

use serde_json::Value;
use uuid::Uuid;

use crate::common::get_json;

/// Ann's chain through the stream API of the audit log at `base`: six
/// records, paged by four, exported whole.
pub(super) async fn check_stream_api(base: &str, ann: &str) {
    let (status, page) = get_json(&format!("{base}/audit/streams/{ann}?limit=4")).await;
    assert_eq!(status, 200);
    let records = page["records"].as_array().unwrap();
    assert_eq!(records.len(), 4);
    assert_eq!(page["next_after"], 4);
    assert_eq!(records[0]["type"], "account_opened");
    assert_eq!(records[0]["prev_hash"], "0".repeat(64));
    assert_eq!(records[1]["prev_hash"], records[0]["hash"]);
    let (_, rest) = get_json(&format!("{base}/audit/streams/{ann}?after=4")).await;
    assert_eq!(rest["records"].as_array().unwrap().len(), 2);
    assert_eq!(rest["records"][0]["position"], 5);
    assert_eq!(rest["next_after"], Value::Null);

    let http = eventbank_testkit::http::client();
    let jsonl = http
        .get(format!("{base}/audit/streams/{ann}?format=jsonl"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[3], records[3]);
    let csv = http
        .get(format!("{base}/audit/streams/{ann}?format=csv&limit=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["x-next-after"], "2");
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("stream_id,stream_kind,position,"), "{csv}");

    // Errors are JSON.
    for (url, status, code) in [
        (
            format!("{base}/audit/streams/not-a-uuid"),
            400,
            "invalid_stream_id",
        ),
        (
            format!("{base}/audit/streams/{}", Uuid::new_v4()),
            404,
            "stream_not_found",
        ),
        (
            format!("{base}/audit/streams/{ann}?format=xml"),
            400,
            "invalid_format",
        ),
        (
            format!("{base}/audit/streams/{ann}?limit=0"),
            400,
            "invalid_limit",
        ),
        (
            format!("{base}/audit/verify?stream={}", Uuid::new_v4()),
            404,
            "stream_not_found",
        ),
        (
            format!("{base}/audit/verify?strem=x"),
            400,
            "unknown_parameter",
        ),
    ] {
        let (got, body) = get_json(&url).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{url}: {body}"
        );
    }
}
