# syntax=docker/dockerfile:1.7
#
# One Dockerfile for all four services:
#   docker build --build-arg SERVICE=account-command -t eventbank/account-command .
#
# Stages: cargo-chef plans the dependency graph, then compiles only the
# dependencies (including the bundled librdkafka, built with make) into a
# layer that stays cached until Cargo.toml/Cargo.lock change; the service is
# built on top. That dependency layer does not depend on SERVICE, so the four
# images share it. The runtime is distroless (glibc, libgcc_s, OpenSSL's
# libssl3, which the TLS links use, and CA certificates; no shell, no package
# manager) and runs as uid 65532. The rust:bookworm builder has libssl-dev.

ARG RUST_VERSION=1.95
ARG CARGO_CHEF_VERSION=0.1.78

FROM rust:${RUST_VERSION}-bookworm AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: cached until the recipe (manifests + lock file) changes.
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<service>" >&2; exit 1; } \
 && test -f "services/${SERVICE}/Cargo.toml" || { echo "unknown service '${SERVICE}'" >&2; exit 1; } \
 && cargo build --release --locked --package "${SERVICE}" --bin "${SERVICE}" \
 && install -D -m 0755 "target/release/${SERVICE}" /out/eventbank-service

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG SERVICE
ARG VERSION=dev
ARG PORT=8080
LABEL org.opencontainers.image.title="eventbank-${SERVICE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/eventbank/eventbank" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.eventbank.service="${SERVICE}"
COPY --from=builder /out/eventbank-service /usr/local/bin/eventbank-service
USER 65532:65532
EXPOSE ${PORT}
# The binary answers its own health check (`<bin> healthcheck` asks the
# running instance's /healthz): there is no shell or curl in this image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/eventbank-service", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/eventbank-service"]
