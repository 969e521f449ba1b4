//! The bearer token of one benchmark run: the services it starts accept it
//! with every scope, and every request it sends carries it. Random per run,
//! so nothing that outlives the run can call its services.

use std::sync::OnceLock;

/// This run's token.
pub fn token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        format!(
            "bench-{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )
    })
}

/// The setting that makes a service accept [`token`] for everything.
pub fn service_env() -> (String, String) {
    (
        "EVENTBANK_AUTH__TOKENS".to_owned(),
        format!(
            r#"[{{name="bench",token="{}",scopes=["write","read","audit","admin"]}}]"#,
            token()
        ),
    )
}

/// A client builder whose requests carry the token.
pub fn client_builder() -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token()))
        .expect("a hex token is a valid header value");
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder().default_headers(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_token_per_run_in_the_services_setting() {
        assert_eq!(token(), token());
        assert!(token().len() >= 16);
        assert!(service_env().1.contains(token()));
    }
}
