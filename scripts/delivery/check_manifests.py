#!/usr/bin/env python3
"""Policy checks on rendered Helm output, beyond the Kubernetes schemas.

Every workload: non-root, read-only root filesystem, all capabilities
dropped, no privilege escalation, resources set; every service pod: probes
on /healthz and /readyz, a checksum/config annotation, EVENTBANK_INSTANCE
from the pod name; the transactional writers (account-command processor,
transfer-saga) are StatefulSets; recommended labels everywhere; selectors,
Services, PDBs and HPAs point at workloads that exist; no secret values in
plain env or config.

usage: check_manifests.py RENDERED.yaml...
"""
import re
import sys
from pathlib import Path

import yaml

from check_result import finish

TRANSACTIONAL = {("account-command", "processor"), ("transfer-saga", "saga")}
LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
          "app.kubernetes.io/managed-by", "app.kubernetes.io/component", "helm.sh/chart"]
SECRETISH = re.compile(r"(password|secret|token)", re.I)
URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]*:[^/@\s]+@")
# An API token written into a ConfigMap's TOML (auth.tokens, auth.metrics_token).
TOML_TOKEN = re.compile(r"^\s*(token|metrics_token)\s*=|\btoken\s*=\s*\"", re.M)


def check_file(path):
    errors = []
    docs = [d for d in yaml.safe_load_all(Path(path).read_text()) if isinstance(d, dict)]
    workloads = {}
    for d in docs:
        kind, meta = d["kind"], d["metadata"]
        where = f"{Path(path).name}: {kind} {meta['name']}"
        labels = meta.get("labels") or {}
        for label in LABELS:
            if label not in labels:
                errors.append(f"{where}: missing label {label}")
        if kind in ("Deployment", "StatefulSet", "Job"):
            pod = d["spec"]["template"]
            spec = pod["spec"]
            if kind != "Job":
                workloads[(kind, meta["name"])] = pod["metadata"]["labels"]
                sel = d["spec"]["selector"]["matchLabels"]
                if any(pod["metadata"]["labels"].get(k) != v for k, v in sel.items()):
                    errors.append(f"{where}: selector does not match the pod labels")
                if set(sel) - {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}:
                    errors.append(f"{where}: selector uses labels that may change: {sorted(sel)}")
                if "checksum/config" not in (pod["metadata"].get("annotations") or {}):
                    errors.append(f"{where}: no checksum/config annotation (pods would not roll on config change)")
                component = (labels.get("app.kubernetes.io/name"), labels.get("app.kubernetes.io/component"))
                if component in TRANSACTIONAL and kind != "StatefulSet":
                    errors.append(f"{where}: a transactional writer must be a StatefulSet (stable transactional id)")
            psc = spec.get("securityContext") or {}
            if not psc.get("runAsNonRoot"):
                errors.append(f"{where}: pod securityContext.runAsNonRoot is not true")
            if spec.get("automountServiceAccountToken") is not False:
                errors.append(f"{where}: automountServiceAccountToken should be false")
            for c in spec["containers"]:
                cw = f"{where} container {c['name']}"
                sc = c.get("securityContext") or {}
                if not sc.get("readOnlyRootFilesystem"):
                    errors.append(f"{cw}: readOnlyRootFilesystem is not true")
                if sc.get("allowPrivilegeEscalation") is not False:
                    errors.append(f"{cw}: allowPrivilegeEscalation is not false")
                if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                    errors.append(f"{cw}: capabilities do not drop ALL")
                res = c.get("resources") or {}
                if not res.get("requests") or not (res.get("limits") or {}).get("memory"):
                    errors.append(f"{cw}: needs resource requests and a memory limit")
                if ":latest" in c["image"] or ":" not in c["image"].split("/")[-1]:
                    errors.append(f"{cw}: image {c['image']} has no fixed tag")
                for env in c.get("env", []):
                    value = env.get("value")
                    if value and (SECRETISH.search(env["name"]) or URL_WITH_PASSWORD.search(value)):
                        errors.append(f"{cw}: env {env['name']} carries a secret literally; use a Secret")
                if kind == "Job":
                    continue
                probes = {p: (c.get(p) or {}).get("httpGet", {}).get("path") for p in
                          ("livenessProbe", "readinessProbe", "startupProbe")}
                if probes != {"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"}:
                    errors.append(f"{cw}: probes should be /healthz (liveness, startup) and /readyz: {probes}")
                inst = [e for e in c.get("env", []) if e["name"] == "EVENTBANK_INSTANCE"]
                if not inst or inst[0].get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
                    errors.append(f"{cw}: EVENTBANK_INSTANCE must come from the pod name")
        if kind == "ConfigMap":
            for key, text in (d.get("data") or {}).items():
                if URL_WITH_PASSWORD.search(text):
                    errors.append(f"{where}: {key} contains a URL with a password")
                if TOML_TOKEN.search(text):
                    errors.append(f"{where}: {key} contains an API token; tokens belong in a Secret")
    pod_labels = list(workloads.values())
    for d in docs:
        kind, meta = d["kind"], d["metadata"]
        where = f"{Path(path).name}: {kind} {meta['name']}"
        if kind == "Service":
            sel = d["spec"]["selector"]
            if not any(all(l.get(k) == v for k, v in sel.items()) for l in pod_labels):
                errors.append(f"{where}: selects no workload's pods")
        if kind == "PodDisruptionBudget":
            sel = d["spec"]["selector"]["matchLabels"]
            if not any(all(l.get(k) == v for k, v in sel.items()) for l in pod_labels):
                errors.append(f"{where}: selects no workload's pods")
        if kind == "HorizontalPodAutoscaler":
            ref = d["spec"]["scaleTargetRef"]
            if (ref["kind"], ref["name"]) not in workloads:
                errors.append(f"{where}: scales {ref['kind']} {ref['name']}, which is not rendered")
        if kind == "StatefulSet":
            svc = d["spec"]["serviceName"]
            if not any(x["kind"] == "Service" and x["metadata"]["name"] == svc for x in docs):
                errors.append(f"{where}: governing Service {svc} is not rendered")
    return errors, len(docs)


def main(paths):
    errors, count = [], 0
    for p in paths:
        e, n = check_file(p)
        errors += e
        count += n
    return finish(errors, f"manifest policy: {count} objects in {len(paths)} renders pass")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
