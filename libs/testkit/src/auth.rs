//! The one bearer token every test uses: services started by tests accept it
//! with every scope, and testkit's clients send it. They also accept one
//! token per scope ([`scope_token`]), which [`check_guarded`] uses to check
//! that a route answers only its own scope.

use eventbank_runtime::http::auth::TokenSettings;
use eventbank_runtime::http::{AuthSettings, Scope};
use eventbank_runtime::secret::Secret;
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The test token (a constant: tests run against local services only).
pub const TOKEN: &str = "eventbank-test-token-0123456789";

/// A token that has `scope` only (named after it).
pub fn scope_token(scope: Scope) -> String {
    format!("eventbank-test-{scope}-only-0123456789")
}

/// Auth settings accepting [`TOKEN`] with every scope and each
/// [`scope_token`]: what every test's service settings take
/// (`auth: eventbank_testkit::auth::settings()`).
pub fn settings() -> AuthSettings {
    let mut tokens = vec![TokenSettings {
        name: "test".to_owned(),
        token: Secret::new(TOKEN),
        scopes: Scope::ALL.to_vec(),
    }];
    tokens.extend(Scope::ALL.map(|scope| TokenSettings {
        name: format!("test-{scope}"),
        token: Secret::new(scope_token(scope)),
        scopes: vec![scope],
    }));
    AuthSettings {
        tokens,
        ..AuthSettings::default()
    }
}

/// The same tokens as [`settings`] as an environment variable, for a
/// service binary run as a child process.
pub fn env() -> Vec<(String, String)> {
    let tokens: Vec<String> = settings()
        .tokens
        .iter()
        .map(|token| {
            let scopes: Vec<String> = token.scopes.iter().map(|s| format!("\"{s}\"")).collect();
            format!(
                r#"{{name="{}",token="{}",scopes=[{}]}}"#,
                token.name,
                token.token.expose(),
                scopes.join(",")
            )
        })
        .collect();
    vec![(
        "EVENTBANK_AUTH__TOKENS".to_owned(),
        format!("[{}]", tokens.join(",")),
    )]
}

/// `Bearer <TOKEN>`, the `Authorization` header value.
pub fn header_value() -> String {
    format!("Bearer {TOKEN}")
}

/// Asserts that `method path` (with `body` as JSON, if any) answers 401
/// without a token and with an unknown one, 403 `insufficient_scope` to a
/// token of every other scope, and lets a token of `scope` through; returns
/// that last answer's status and JSON body (`Null` if none) for the caller
/// to judge.
pub async fn check_guarded(
    base: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    scope: Scope,
) -> (StatusCode, Value) {
    let http = reqwest::Client::new();
    let send = async |token: Option<&str>| {
        let mut request = http.request(method.clone(), format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("{method} {path}: {err}"));
        let status = response.status();
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|value| value.to_str().unwrap_or_default().to_owned());
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, challenge, body)
    };
    let what = format!("{method} {path}");

    let (status, challenge, body) = send(None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "{what} without a token: {body}"
    );
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"eventbank\""),
        "{what}"
    );
    assert_eq!(body["error"]["code"], "unauthorized", "{what}: {body}");

    let (status, _, body) = send(Some("eventbank-unknown-token-0123456789")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "{what} with an unknown token"
    );
    assert_eq!(body["error"]["code"], "invalid_token", "{what}: {body}");

    for other in Scope::ALL.into_iter().filter(|other| *other != scope) {
        let (status, challenge, body) = send(Some(&scope_token(other))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what} with {other}: {body}");
        assert_eq!(
            body["error"]["code"], "insufficient_scope",
            "{what}: {body}"
        );
        let expected =
            format!("Bearer realm=\"eventbank\", error=\"insufficient_scope\", scope=\"{scope}\"");
        assert_eq!(challenge.as_deref(), Some(expected.as_str()), "{what}");
    }

    let (status, _, body) = send(Some(&scope_token(scope))).await;
    assert!(
        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
        "{what} with a {scope} token: {status} {body}"
    );
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_token_is_a_valid_token_with_every_scope() {
        let settings = settings();
        settings.validate().expect("valid");
        assert_eq!(settings.tokens[0].scopes, Scope::ALL.to_vec());
        assert!(env()[0].1.contains(TOKEN));
    }
}
