#!/usr/bin/env bash
# Creates eventbank's topics if they are missing, with the layout the services
# themselves would use (libs/events/src/topics.rs, TopicLayout defaults):
# every topic and its `.dlq` get the same partition count; existing topics are
# left as they are. Runs in the official apache/kafka image (compose one-shot
# `kafka-topics`, Helm hook Job `<release>-topics`).
#
# Environment: KAFKA_BOOTSTRAP (required), TOPIC_PREFIX, PARTITIONS (6),
# REPLICATION_FACTOR (1), MIN_INSYNC_REPLICAS (unset = broker default),
# SECURITY_PROTOCOL (PLAINTEXT | SASL_PLAINTEXT), SASL_MECHANISM,
# SASL_USERNAME, SASL_PASSWORD, KAFKA_BIN (/opt/kafka/bin).
set -euo pipefail

: "${KAFKA_BOOTSTRAP:?KAFKA_BOOTSTRAP is required}"
prefix="${TOPIC_PREFIX:-}"
partitions="${PARTITIONS:-6}"
rf="${REPLICATION_FACTOR:-1}"
min_isr="${MIN_INSYNC_REPLICAS:-}"
bin="${KAFKA_BIN:-/opt/kafka/bin}"
protocol="$(printf '%s' "${SECURITY_PROTOCOL:-PLAINTEXT}" | tr '[:lower:]' '[:upper:]')"

hour=3600000
day=$((24 * hour))

client_config="$(mktemp)"
trap 'rm -f "$client_config"' EXIT
echo "security.protocol=$protocol" >"$client_config"
if [[ "$protocol" == SASL_* ]]; then
    : "${SASL_MECHANISM:?SASL_MECHANISM is required with $protocol}"
    : "${SASL_USERNAME:?SASL_USERNAME is required with $protocol}"
    : "${SASL_PASSWORD:?SASL_PASSWORD is required with $protocol}"
    case "$SASL_MECHANISM" in
        PLAIN) module=org.apache.kafka.common.security.plain.PlainLoginModule ;;
        SCRAM-SHA-256 | SCRAM-SHA-512) module=org.apache.kafka.common.security.scram.ScramLoginModule ;;
        *) echo "unsupported SASL_MECHANISM '$SASL_MECHANISM'" >&2; exit 2 ;;
    esac
    {
        echo "sasl.mechanism=$SASL_MECHANISM"
        echo "sasl.jaas.config=$module required username=\"$SASL_USERNAME\" password=\"$SASL_PASSWORD\";"
    } >>"$client_config"
fi

# name, then topic configs
create() {
    local name="$prefix$1"
    shift
    local args=()
    for config in "$@"; do args+=(--config "$config"); done
    if [[ -n "$min_isr" ]]; then args+=(--config "min.insync.replicas=$min_isr"); fi
    "$bin/kafka-topics.sh" --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$client_config" \
        --create --if-not-exists --topic "$name" \
        --partitions "$partitions" --replication-factor "$rf" "${args[@]}"
}

forever=(cleanup.policy=delete retention.ms=-1 retention.bytes=-1)
compacted=(cleanup.policy=compact "min.compaction.lag.ms=$hour" "segment.ms=$((6 * hour))")

create account-commands cleanup.policy=delete "retention.ms=$((7 * day))"
create account-events "${forever[@]}"
create account-state "${compacted[@]}"
create command-results cleanup.policy=delete "retention.ms=$((6 * hour))"
create transfer-events "${forever[@]}"
create transfer-state "${compacted[@]}"
for base in account-commands account-events account-state command-results transfer-events transfer-state; do
    create "$base.dlq" cleanup.policy=delete "retention.ms=$((14 * day))"
done

echo "topics ready:"
"$bin/kafka-topics.sh" --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$client_config" \
    --describe --topic "^${prefix//./\\.}(account|command|transfer)-.*" | grep -v '^\s*Topic:.*Partition:' || true
