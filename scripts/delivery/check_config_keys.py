#!/usr/bin/env python3
"""Checks that deployment config names only settings the services accept.

The services refuse unknown configuration keys (serde deny_unknown_fields),
so a typo in a chart or compose file would stop a pod at start. This reads
each service's settings structs from the Rust sources (services/<svc>/src,
libs/) and checks:

  * every key of every eventbank.toml in the rendered manifests given as
    arguments (ConfigMaps labelled app.kubernetes.io/name=<service>);
  * every EVENTBANK_* env var of those manifests' containers and of the
    services in docker-compose.yml;
  * every key under `config` in helm/<svc>/values.schema.json.

usage: check_config_keys.py RENDERED.yaml...
"""
import json
import re
import sys
import tomllib
from pathlib import Path

import yaml

from check_result import finish

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["account-command", "balance-projector", "transfer-saga", "audit-log"]
# Not settings: the config-file pointer, the dev/test variables and the
# client token (libs/runtime/src/config.rs).
RESERVED_ENV = ("EVENTBANK_CONFIG_FILE", "EVENTBANK_TEST_", "EVENTBANK_DEV_", "EVENTBANK_TOKEN")

STRUCT_RE = re.compile(r"pub struct (\w+)\s*\{(.*?)\n\}", re.S)
# A field ends at its comma, or at the `=` before its default in a
# settings_section! (libs/runtime/src/settings_section.rs).
FIELD_RE = re.compile(r"^\s*pub (\w+):\s*([^,\n=]+)[,=]", re.M)
MAP_RE = re.compile(r"^(BTreeMap|HashMap|IndexMap)<")


# A service's Settings, declared through eventbank_runtime::service_settings!:
# the common fields of the macro's template, then the service's own.
SERVICE_SETTINGS_RE = re.compile(r"service_settings!\s*\{\s*pub struct (\w+) on port [^;]*;(.*?)\n\}", re.S)
SERVICE_SETTINGS_TEMPLATE = ROOT / "libs" / "runtime" / "src" / "service_settings.rs"


def common_settings_fields():
    template = re.search(r"pub struct \$name \{(.*?)\n\s*\}", SERVICE_SETTINGS_TEMPLATE.read_text(), re.S)
    if not template:
        sys.exit(f"cannot find the settings template in {SERVICE_SETTINGS_TEMPLATE}")
    return dict(FIELD_RE.findall(template.group(1)))


def structs_in(paths):
    found = {}
    for path in paths:
        text = path.read_text()
        for name, body in STRUCT_RE.findall(text):
            found.setdefault(name, dict(FIELD_RE.findall(body)))
        for name, body in SERVICE_SETTINGS_RE.findall(text):
            found.setdefault(name, {**common_settings_fields(), **dict(FIELD_RE.findall(body))})
    return found


def settings_tree(service):
    own = structs_in(sorted((ROOT / "services" / service / "src").rglob("*.rs")))
    libs = structs_in(sorted((ROOT / "libs").glob("*/src/**/*.rs")))

    def build(name, seen=()):
        fields = own.get(name) if name in own else libs.get(name)
        if fields is None or name in seen:
            return None
        tree = {}
        for field, ty in fields.items():
            ty = ty.strip()
            inner = re.sub(r"^Option<(.*)>$", r"\1", ty)
            if MAP_RE.match(inner):
                tree[field] = "*"  # free-form keys (e.g. kafka.client)
                continue
            base = inner.split("::")[-1]
            sub = build(base, seen + (name,)) if base[:1].isupper() else None
            tree[field] = sub if sub is not None else "leaf"
        return tree

    tree = build("Settings")
    if not tree:
        sys.exit(f"cannot find struct Settings for {service}")
    return tree


def check_path(tree, path):
    node = tree
    for i, part in enumerate(path):
        if node == "*":
            return None
        if not isinstance(node, dict) or part not in node:
            return ".".join(path[: i + 1])
        node = node[part]
    return None


def toml_paths(table, prefix=()):
    for key, value in table.items():
        if isinstance(value, dict) and value:
            yield from toml_paths(value, prefix + (key,))
        else:
            yield prefix + (key,)


def env_path(name):
    return tuple(p.lower() for p in name[len("EVENTBANK_"):].split("__"))


def main(rendered):
    trees = {svc: settings_tree(svc) for svc in SERVICES}
    errors = []
    checked = 0

    def check(svc, path, where):
        nonlocal checked
        checked += 1
        bad = check_path(trees[svc], path)
        if bad:
            errors.append(f"{where}: '{'.'.join(path)}' is not a setting of {svc} (unknown key '{bad}')")

    for file in rendered:
        for doc in yaml.safe_load_all(Path(file).read_text()):
            if not isinstance(doc, dict):
                continue
            svc = (doc.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/name")
            if svc not in trees:
                continue
            where = f"{file}: {doc['kind']} {doc['metadata']['name']}"
            if doc["kind"] == "ConfigMap" and "eventbank.toml" in doc.get("data", {}):
                for path in toml_paths(tomllib.loads(doc["data"]["eventbank.toml"])):
                    check(svc, path, where)
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []):
                for env in container.get("env", []):
                    name = env["name"]
                    if name.startswith("EVENTBANK_") and not name.startswith(RESERVED_ENV):
                        check(svc, env_path(name), where)

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for svc, spec in compose["services"].items():
        if svc not in trees:
            continue
        env = spec.get("environment", {})
        names = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        for name in names:
            if name.startswith("EVENTBANK_") and not name.startswith(RESERVED_ENV):
                check(svc, env_path(name), f"docker-compose.yml: {svc}")

    for svc in SERVICES:
        schema = json.loads((ROOT / "helm" / svc / "values.schema.json").read_text())

        def walk(node, prefix):
            props = node.get("properties")
            if node.get("type") == "object" and props:
                for key, sub in props.items():
                    yield from walk(sub, prefix + (key,))
            else:
                yield prefix

        for path in walk(schema["properties"]["config"], ()):
            check(svc, path, f"helm/{svc}/values.schema.json config")

    return finish(errors, f"config keys: {checked} checked against the services' settings structs, all known")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
