#!/usr/bin/env python3
"""Writes (or with --check, verifies) helm/*/values.schema.json.

The four service charts share most of their values (image, Kafka, probes,
security, PDB, HPA, ServiceMonitor); their schemas are generated from one
description here so they cannot drift apart. `config` lists exactly the
setting names each service accepts (its Rust settings refuse unknown keys);
scripts/delivery/check_config_keys.py checks those names against the Rust
structs.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def obj(props, required=(), desc=None, extra=True):
    o = {"type": "object", "additionalProperties": bool(extra), "properties": props}
    if required:
        o["required"] = list(required)
    if desc:
        o["description"] = desc
    return o


def strict(props, required=(), desc=None):
    return obj(props, required, desc, extra=False)


def s(desc=None, **kw):
    o = {"type": "string", **kw}
    if desc:
        o["description"] = desc
    return o


def i(desc=None, **kw):
    o = {"type": "integer", **kw}
    if desc:
        o["description"] = desc
    return o


def b(desc=None):
    o = {"type": "boolean"}
    if desc:
        o["description"] = desc
    return o


def free(desc=None):
    o = {"type": "object"}
    if desc:
        o["description"] = desc
    return o


def arr(items=None, desc=None):
    o = {"type": "array"}
    if items:
        o["items"] = items
    if desc:
        o["description"] = desc
    return o


def nullable_int(desc, **kw):
    return {"type": ["integer", "null"], "description": desc, **kw}


STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

PROTOCOLS = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]
MECHANISMS = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
SSLMODES = ["disable", "prefer", "require", "verify-ca", "verify-full"]

CA_SECRET = strict(
    {
        "caSecret": s("Existing Secret with the CA's PEM certificate; empty: the image's trust store"),
        "caKey": s("Key of the certificate in caSecret", minLength=1),
    }
)
GLOBAL_CA_SECRET = obj({"caSecret": {"type": ["string", "null"]}, "caKey": {"type": ["string", "null"]}})

KAFKA = strict(
    {
        "bootstrapServers": s("Comma-separated host:port list (global.kafka.bootstrapServers wins when set)"),
        "topicPrefix": s("Prefix of every topic name", pattern="^[A-Za-z0-9._-]*$"),
        "securityProtocol": s("Kafka security protocol", enum=PROTOCOLS),
        "sasl": strict(
            {
                "mechanism": s("SASL mechanism", enum=["", *MECHANISMS]),
                "username": s("SASL user name"),
                "existingSecret": s("Secret holding the SASL password (never put the password in values)"),
                "passwordKey": s("Key of the password in existingSecret"),
            }
        ),
        "tls": CA_SECRET,
        "topics": strict(
            {
                "create": b("Services create missing topics at start"),
                "partitions": i("Partitions of every topic (co-partitioned topics need one count)", minimum=1),
                "replicationFactor": i("Replicas of every topic", minimum=1),
                "minInsyncReplicas": nullable_int("min.insync.replicas of every topic; null or 0 = broker default", minimum=0),
            }
        ),
    },
    required=["bootstrapServers", "topics"],
)

GLOBAL_KAFKA = obj(
    {
        "bootstrapServers": {"type": ["string", "null"]},
        "topicPrefix": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9._-]*$"},
        "securityProtocol": {"type": ["string", "null"], "enum": [*PROTOCOLS, None, ""]},
        "sasl": obj({k: {"type": ["string", "null"]} for k in ["mechanism", "username", "existingSecret", "passwordKey"]}),
        "tls": GLOBAL_CA_SECRET,
        "topics": obj(
            {
                "create": {"type": ["boolean", "null"]},
                "partitions": {"type": ["integer", "null"], "minimum": 1},
                "replicationFactor": {"type": ["integer", "null"], "minimum": 1},
                "minInsyncReplicas": {"type": ["integer", "null"], "minimum": 0, "description": "0 = broker default (null does not unset a global)"},
            }
        ),
    }
)

SCOPES = ["write", "read", "audit", "admin"]

TOKEN = strict(
    {
        "name": s("Whose token it is (logs name it; the token itself is never logged)", minLength=1),
        "token": s("The bearer token: 16+ characters of A-Z a-z 0-9 - . _ ~ + / =", pattern="^[A-Za-z0-9._~+/=-]{16,}$"),
        "scopes": arr({"type": "string", "enum": SCOPES}, "What it may call"),
    },
    required=["name", "token", "scopes"],
)

METRICS_TOKEN = strict(
    {
        "existingSecret": s("Secret holding the token /metrics then asks for (empty: /metrics stays open)"),
        "key": s("Key of the token in that Secret", minLength=1),
    },
    desc="A token of its own for /metrics: the pod reads it from the Secret, the ServiceMonitor sends it",
)

AUTH = strict(
    {
        "enabled": b("Bearer-token auth on the HTTP API (on by default)"),
        "existingSecret": s("Secret holding the tokens file under tokensKey; wins over tokens"),
        "tokensKey": s("Key of the tokens file in the Secret: JSON, or TOML when it ends in .toml", minLength=1),
        "tokens": arr(TOKEN, "Tokens the chart puts in a Secret of its own (when existingSecret is empty)"),
        "metricsToken": METRICS_TOKEN,
    },
    desc="Bearer tokens of the HTTP API (global.auth wins as a whole when it names a Secret or tokens)",
)

GLOBAL_AUTH = obj(
    {
        "enabled": {"type": ["boolean", "null"]},
        "existingSecret": {"type": ["string", "null"]},
        "tokensKey": {"type": ["string", "null"]},
        "tokens": {"type": ["array", "null"], "items": TOKEN},
        "metricsToken": {"type": ["object", "null"]},
    }
)

URL_SECRET = {
    "url": {"type": ["string", "null"]},
    "existingSecret": {"type": ["string", "null"]},
    "urlKey": {"type": ["string", "null"]},
    "passwordSecret": {"type": ["string", "null"]},
    "passwordKey": {"type": ["string", "null"]},
    "tls": GLOBAL_CA_SECRET,
}

GLOBAL = obj(
    {
        "imageRegistry": {"type": ["string", "null"]},
        "imagePullSecrets": arr({"type": "string"}),
        "kafka": GLOBAL_KAFKA,
        "redis": obj({**URL_SECRET, "username": {"type": ["string", "null"]}}),
        "postgres": obj({**URL_SECRET, "sslmode": {"type": ["string", "null"], "enum": [*SSLMODES, None, ""]}}),
        "auth": GLOBAL_AUTH,
    },
    desc="Values shared by all eventbank charts (set by the umbrella chart); a set value wins",
)

IMAGE = strict(
    {
        "registry": s("Image registry (global.imageRegistry wins when set)"),
        "repository": s("Image repository", minLength=1),
        "tag": s("Image tag; empty = the chart's appVersion"),
        "digest": s("Image digest (sha256:...); pins the image when set", pattern="^(sha256:[a-f0-9]{64})?$"),
        "pullPolicy": s(enum=["Always", "IfNotPresent", "Never"]),
    },
    required=["repository"],
)

RESOURCES = obj(
    {
        "requests": obj({"cpu": {"type": ["string", "number"]}, "memory": {"type": ["string", "number"]}}),
        "limits": obj({"cpu": {"type": ["string", "number"]}, "memory": {"type": ["string", "number"]}}),
    }
)

PROBE = obj(
    {
        "initialDelaySeconds": i(minimum=0),
        "periodSeconds": i(minimum=1),
        "timeoutSeconds": i(minimum=1),
        "failureThreshold": i(minimum=1),
        "successThreshold": i(minimum=1),
    }
)


def component(kind):
    """Values of one workload (at the top level, or under api/processor)."""
    props = {
        "replicaCount": i("Replicas (ignored when autoscaling is enabled)", minimum=0),
        "resources": RESOURCES,
        "podAnnotations": STR_MAP,
        "podLabels": STR_MAP,
        "nodeSelector": STR_MAP,
        "tolerations": arr(free()),
        "affinity": free(),
        "topologySpreadConstraints": arr(free(), "labelSelector defaults to this workload's pods"),
        "terminationGracePeriodSeconds": {"type": ["integer", "null"], "minimum": 0},
        "pdb": strict(
            {
                "enabled": b(),
                "maxUnavailable": {"type": ["integer", "string"]},
                "minAvailable": {"type": ["integer", "string", "null"]},
            }
        ),
        "autoscaling": strict(
            {
                "enabled": b(),
                "minReplicas": i(minimum=1),
                "maxReplicas": i(minimum=1, description="For Kafka consumers at most the partition count"),
                "targetCPUUtilizationPercentage": {"type": ["integer", "null"], "minimum": 1},
                "targetMemoryUtilizationPercentage": {"type": ["integer", "null"], "minimum": 1},
                "behavior": free(),
            }
        ),
    }
    return props


def common(config_props, port):
    return {
        "enabled": b("Read by the umbrella chart (condition); ignored here"),
        "global": GLOBAL,
        "eventbank-common": free("Values of the library chart (none)"),
        "nameOverride": s(),
        "fullnameOverride": s(),
        "commonLabels": STR_MAP,
        "image": IMAGE,
        "imagePullSecrets": arr({"type": "string"}),
        "serviceAccount": strict({"create": b(), "name": s(), "annotations": STR_MAP}),
        "podAnnotations": STR_MAP,
        "priorityClassName": s(),
        "terminationGracePeriodSeconds": i(minimum=0),
        "podSecurityContext": free(),
        "securityContext": free(),
        "containerPort": i(f"Port the service listens on (default {port})", minimum=1, maximum=65535),
        "service": strict(
            {
                "type": s(enum=["ClusterIP", "NodePort", "LoadBalancer"]),
                "port": i(minimum=1, maximum=65535),
                "annotations": STR_MAP,
            }
        ),
        "probes": strict({"startup": PROBE, "liveness": PROBE, "readiness": PROBE}),
        "serviceMonitor": strict(
            {
                "enabled": b("Needs the Prometheus Operator CRDs"),
                "namespace": s(),
                "interval": s(),
                "scrapeTimeout": s(),
                "labels": STR_MAP,
            }
        ),
        "kafka": KAFKA,
        "auth": AUTH,
        "extraEnv": arr(free(), "Extra container env (EVENTBANK_* must name existing settings)"),
        "extraEnvFrom": arr(free()),
        "config": strict(
            {
                "telemetry": strict(
                    {
                        "log_format": s(enum=["auto", "json", "pretty"]),
                        "log_filter": s("tracing EnvFilter directive, e.g. info,rdkafka=warn"),
                    }
                ),
                "kafka": strict(
                    {
                        "transaction_timeout_ms": i(minimum=1000),
                        "transactional_producers": i(
                            "Transactional producers each exactly-once loop uses in turn",
                            minimum=1,
                            maximum=8,
                        ),
                        "client": {
                            "type": "object",
                            "description": "Raw librdkafka properties (string values)",
                            "additionalProperties": {"type": "string"},
                        },
                    }
                ),
                **config_props,
            },
            desc="Service settings written to eventbank.toml (the service's own setting names)",
        ),
    }


def url_secret(desc, default_scheme):
    return strict(
        {
            "url": s(f"{desc} URL without a password ({default_scheme}...); used when existingSecret is empty"),
            "existingSecret": s("Secret holding the full URL (with password); wins over url"),
            "urlKey": s("Key of the URL in existingSecret"),
            "passwordSecret": s("Secret holding the password alone; wins over one in the URL"),
            "passwordKey": s("Key of the password in passwordSecret"),
            "tls": CA_SECRET,
        }
    )


# The settings the services' Kafka consumer sections share, each with the one
# schema it has in all of them (the Rust checks are shared too).
CONSUMER_SETTINGS = {
    "consumer_group": s(minLength=1),
    "router_consumer_group": s(minLength=1),
    "max_batch": i(minimum=1),
    "max_batch_wait_ms": i(minimum=0),
    "lag_interval_ms": i(minimum=1),
    "static_membership": b(),
}


def consumer_section(*settings):
    """A config section of a Kafka consumer: each of `settings` is the name of
    one of CONSUMER_SETTINGS or a (name, schema) pair of the section's own,
    in the order the section lists them."""
    return strict(dict(item if isinstance(item, tuple) else (item, CONSUMER_SETTINGS[item]) for item in settings))


def chart_schema(title, props, required=("image", "kafka", "config")):
    return {
        "$schema": "https://json-schema.org/draft-07/schema#",
        "title": title,
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": props,
    }


def account_command():
    p = common(
        {
            "api": strict(
                {
                    "result_timeout_ms": i(minimum=1, maximum=60000),
                    "max_body_bytes": i(minimum=256),
                    "result_cache_capacity": i(minimum=0),
                }
            ),
            "processor": consumer_section(
                "consumer_group",
                "max_batch",
                "max_batch_wait_ms",
                "static_membership",
                ("idempotency_window_secs", i(minimum=1, maximum=31622400)),
            ),
            "limits": strict({"max_amount": i(minimum=1)}),
        },
        8080,
    )
    p["api"] = strict({"enabled": b("Run the HTTP command API Deployment"), **component("Deployment")})
    p["processor"] = strict(
        {"enabled": b("Run the exactly-once processor StatefulSet"), **component("StatefulSet")}
    )
    return chart_schema("account-command", p)


def single(name, port, config_props, extra):
    p = common(config_props, port)
    p.update(component(None))
    p.update(extra)
    return chart_schema(name, p)


def balance_projector():
    return single(
        "balance-projector",
        8081,
        {
            "projector": consumer_section(
                "consumer_group",
                "max_batch",
                "max_batch_wait_ms",
                ("read_wait_ms", i(minimum=0)),
                "lag_interval_ms",
                "static_membership",
            )
        },
        {
            "redis": strict(
                {
                    **url_secret("Redis", "redis:// or rediss://")["properties"],
                    "keyPrefix": s("Prefix of every Redis key"),
                    "username": s("ACL user (Redis 6+); empty: default"),
                }
            )
        },
    )


def transfer_saga():
    return single(
        "transfer-saga",
        8082,
        {
            "saga": consumer_section(
                "consumer_group",
                "router_consumer_group",
                "max_batch",
                "max_batch_wait_ms",
                "static_membership",
                ("retry_after_ms", i("No progress for this long: issue the pending command again", minimum=1)),
                (
                    "credit_deadline_ms",
                    i(
                        "A credit not decided within this time of the debit is refused; the transfer fails with reason timeout",
                        minimum=2,
                    ),
                ),
                ("tick_interval_ms", i(minimum=1)),
                (
                    "finished_retention_secs",
                    i(
                        "A finished transfer is forgotten (its transfer-state key tombstoned) this long after it finished; an older debit is dead-lettered",
                        minimum=1,
                    ),
                ),
            )
        },
        {},
    )


def audit_log():
    return single(
        "audit-log",
        8083,
        {
            "audit": consumer_section(
                "consumer_group",
                "max_batch",
                "max_batch_wait_ms",
                "lag_interval_ms",
                "static_membership",
            )
        },
        {
            "postgres": strict(
                {
                    **url_secret("PostgreSQL", "postgres://")["properties"],
                    "sslmode": s("TLS as libpq's sslmode (verify-full in production)", enum=SSLMODES),
                    "schema": s("Schema of the audit tables", pattern="^[a-z_][a-z0-9_]*$"),
                }
            )
        },
    )


def umbrella():
    sub = {"type": "object", "description": "Values of the subchart (see its values.yaml)", "properties": {"enabled": b()}}
    topics_job = strict(
        {
            "enabled": b("Create the topics in a pre-install/pre-upgrade hook Job"),
            "image": strict(
                {
                    "registry": s(),
                    "repository": s(minLength=1),
                    "tag": s("Empty: the chart's appVersion"),
                    "pullPolicy": s(enum=["Always", "IfNotPresent", "Never"]),
                }
            ),
            "backoffLimit": i(minimum=0),
            "activeDeadlineSeconds": i(minimum=1),
            "resources": RESOURCES,
            "podSecurityContext": free(),
            "securityContext": free(),
            "nodeSelector": STR_MAP,
            "tolerations": arr(free()),
        }
    )
    g = json.loads(json.dumps(GLOBAL))
    g["properties"]["kafka"]["required"] = ["bootstrapServers"]
    return chart_schema(
        "eventbank",
        {
            "global": g,
            "eventbank-common": free("Values of the library chart (none)"),
            "commonLabels": STR_MAP,
            "topicsJob": topics_job,
            "monitoring": strict(
                {
                    "dashboard": strict({"enabled": b("A ConfigMap with the Grafana dashboard"), "labels": STR_MAP}),
                    "prometheusRule": strict({"enabled": b("A PrometheusRule with the alerts"), "labels": STR_MAP}),
                }
            ),
            "account-command": sub,
            "balance-projector": sub,
            "transfer-saga": sub,
            "audit-log": sub,
        },
        required=("global",),
    )


SCHEMAS = {
    "account-command": account_command,
    "balance-projector": balance_projector,
    "transfer-saga": transfer_saga,
    "audit-log": audit_log,
    "eventbank": umbrella,
}


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for chart, build in SCHEMAS.items():
        path = ROOT / "helm" / chart / "values.schema.json"
        text = json.dumps(build(), indent=2) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale (run scripts/delivery/chart_schemas.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
