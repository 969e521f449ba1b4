//! Error answers in the OpenAPI document: the one JSON error shape
//! (`{"error":{"code","message"}}`, see [`ApiError`](crate::http::ApiError)),
//! with the `code`s a given status can carry on a given operation listed as
//! an `enum`, so a client (and the contract test) knows every code it may
//! meet, and an undocumented code fails the schema check.

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::Response;
use utoipa::openapi::{Content, RefOr, Schema};

/// The error schema for `codes` (sorted, without duplicates).
fn schema(codes: &[String]) -> Schema {
    let value = json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "enum": codes,
                        "description": "What went wrong, for programs",
                    },
                    "message": {
                        "type": "string",
                        "description": "What went wrong and what to do, for people",
                    },
                },
            },
        },
    });
    // A literal of utoipa's own schema model: it always deserializes.
    serde_json::from_value(value).unwrap_or_default()
}

fn response(status: u16, codes: &[String]) -> Response {
    let listed: Vec<String> = codes.iter().map(|code| format!("`{code}`")).collect();
    let mut response = Response::new(format!(
        "{} (`error.code`: {})",
        reason(status),
        listed.join(", ")
    ));
    response.content.insert(
        "application/json".to_owned(),
        Content::new(Some(schema(codes))).into(),
    );
    response
}

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("Error")
}

/// The documented codes of the error response `status` of `operation`, if
/// it is one written by this module.
fn codes_of(operation: &Operation, status: &str) -> Vec<String> {
    let Some(RefOr::T(response)) = operation.responses.responses.get(status) else {
        return Vec::new();
    };
    let Some(RefOr::T(content)) = response.content.get("application/json") else {
        return Vec::new();
    };
    let Some(RefOr::T(schema)) = &content.schema else {
        return Vec::new();
    };
    let value = serde_json::to_value(schema).unwrap_or_default();
    value["properties"]["error"]["properties"]["code"]["enum"]
        .as_array()
        .map(|codes| {
            codes
                .iter()
                .filter_map(|code| code.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Error responses: each status with the codes it can carry.
pub fn error_responses(errors: &[(u16, &[&str])]) -> BTreeMap<String, RefOr<Response>> {
    let mut operation = Operation::new();
    for (status, codes) in errors {
        add_errors(&mut operation, *status, codes);
    }
    operation.responses.responses
}

/// Adds `codes` to the error response `status` of `operation` (creating
/// it), keeping the codes already listed there: a guard and a handler may
/// both answer 401 or 404 with codes of their own.
pub fn add_errors(operation: &mut Operation, status: u16, codes: &[&str]) {
    let key = status.to_string();
    let mut all = codes_of(operation, &key);
    all.extend(codes.iter().map(|code| (*code).to_owned()));
    all.sort();
    all.dedup();
    let mut response = response(status, &all);
    if let Some(RefOr::T(existing)) = operation.responses.responses.get_mut(&key) {
        response.headers = std::mem::take(&mut existing.headers);
    }
    operation
        .responses
        .responses
        .insert(key, RefOr::T(response));
}

/// Documents the (string) header `name` on the answer `status` of
/// `operation`, which must be there already.
pub fn add_header(operation: &mut Operation, status: u16, name: &str, description: &str) {
    if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(&status.to_string()) {
        let schema: Schema = serde_json::from_value(json!({"type": "string"})).unwrap_or_default();
        let mut header = Header::new(schema);
        header.description = Some(description.to_owned());
        response.headers.insert(name.to_owned(), header.into());
    }
}

/// A type listing an operation's error answers, for `responses(...)` of
/// `#[utoipa::path]`:
///
/// ```ignore
/// api_errors!(
///     /// Why a deposit can fail.
///     DepositErrors {
///         400 => ["invalid_json", "missing_amount", "invalid_amount"],
///         404 => ["account_not_found"],
///     }
/// );
/// ```
#[macro_export]
macro_rules! api_errors {
    ($(#[$doc:meta])* $name:ident { $($status:literal => [$($code:expr),* $(,)?]),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl ::utoipa::IntoResponses for $name {
            fn responses() -> ::std::collections::BTreeMap<
                String,
                ::utoipa::openapi::RefOr<::utoipa::openapi::response::Response>,
            > {
                $crate::http::openapi::error_responses(&[$(($status, &[$($code),*])),+])
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_one_status_merge_sorted_and_unique() {
        let mut operation = Operation::new();
        add_errors(
            &mut operation,
            404,
            &["route_not_found", "account_not_found"],
        );
        add_errors(
            &mut operation,
            404,
            &["account_not_found", "command_not_found"],
        );
        assert_eq!(
            codes_of(&operation, "404"),
            ["account_not_found", "command_not_found", "route_not_found"]
        );
        let value = serde_json::to_value(&operation.responses).unwrap();
        let schema = &value["404"]["content"]["application/json"]["schema"];
        assert_eq!(schema["required"], json!(["error"]));
        assert_eq!(
            schema["properties"]["error"]["required"],
            json!(["code", "message"])
        );
        assert!(
            value["404"]["description"]
                .as_str()
                .unwrap()
                .starts_with("Not Found (`error.code`: `account_not_found`"),
            "{value}"
        );
    }
}
