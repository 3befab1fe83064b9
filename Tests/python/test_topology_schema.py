#!/usr/bin/env python3
"""Checks docs/topology.schema.json. Run from the repository root:

    python3 Tests/python/test_topology_schema.py [--fallback]

1. every topologies/*.json validates against the schema;
2. the schema accepts a document that uses every key, and refuses documents that
   Simulations/PRSMSim/Topology/TopologyLoader.swift refuses (so the schema cannot drift lax);
3. the schema names exactly the keys, behaviours, fault types, latency distributions and roles the
   Swift loader reads (read from its source), so a key added to the loader without the schema fails.

Uses `jsonschema` (Draft 2020-12) when it is importable, and always also a small built-in validator
of the keywords the schema uses, so the check runs on machines without jsonschema (--fallback uses
only the built-in one). Standard library only otherwise. Exits non-zero and names every failure.
"""
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "docs" / "topology.schema.json"
TOPOLOGIES = ROOT / "topologies"
LOADER = ROOT / "Simulations" / "PRSMSim" / "Topology" / "TopologyLoader.swift"
MODEL = ROOT / "Simulations" / "PRSMSim" / "Topology" / "Topology.swift"
ROLES = ROOT / "Sources" / "PRSMWire" / "Roles.swift"

failures = []
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        failures.append(what)


# --- a minimal validator for the keywords docs/topology.schema.json uses -------------------------

class MiniValidator:
    """type, enum, const, properties, additionalProperties, required, items, minItems, maxItems, minimum,
    maximum, pattern, allOf, anyOf, if/then, $ref to #/$defs/..., and boolean schemas."""

    KEYWORDS = {"$schema", "$id", "$comment", "$defs", "title", "description", "type", "enum", "const",
                "properties", "additionalProperties", "required", "items", "minItems", "maxItems", "minimum", "maximum",
                "pattern", "allOf", "anyOf", "if", "then", "$ref"}

    def __init__(self, schema):
        self.root = schema
        unknown = self.unknown_keywords(schema)
        if unknown:
            raise ValueError(f"built-in validator does not support {sorted(unknown)}")

    def unknown_keywords(self, schema):
        found = set()
        if isinstance(schema, dict):
            found |= set(schema) - self.KEYWORDS
            for key, value in schema.items():
                if key in ("properties", "$defs"):
                    for sub in value.values():
                        found |= self.unknown_keywords(sub)
                elif key in ("allOf", "anyOf"):
                    for sub in value:
                        found |= self.unknown_keywords(sub)
                elif key in ("items", "additionalProperties", "if", "then"):
                    found |= self.unknown_keywords(value)
        return found

    def errors(self, instance):
        return list(self.validate(self.root, instance, "$"))

    @staticmethod
    def is_type(value, name):
        if name == "object":
            return isinstance(value, dict)
        if name == "array":
            return isinstance(value, list)
        if name == "string":
            return isinstance(value, str)
        if name == "boolean":
            return isinstance(value, bool)
        if name == "null":
            return value is None
        if name == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if name == "integer":
            return (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, float) and value.is_integer())
        raise ValueError(name)

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def validate(self, schema, value, path):
        if schema is True:
            return
        if schema is False:
            yield f"{path}: not allowed"
            return
        if "$ref" in schema:
            yield from self.validate(self.resolve(schema["$ref"]), value, path)
        if "type" in schema and not self.is_type(value, schema["type"]):
            yield f"{path}: expected {schema['type']}"
            return
        if "enum" in schema and value not in schema["enum"]:
            yield f"{path}: {value!r} is not one of {schema['enum']}"
        if "const" in schema and value != schema["const"]:
            yield f"{path}: expected {schema['const']!r}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                yield f"{path}: below {schema['minimum']}"
            if "maximum" in schema and value > schema["maximum"]:
                yield f"{path}: above {schema['maximum']}"
        if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
            yield f"{path}: does not match {schema['pattern']}"
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                yield f"{path}: fewer than {schema['minItems']} items"
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                yield f"{path}: more than {schema['maxItems']} items"
            if "items" in schema:
                for index, item in enumerate(value):
                    yield from self.validate(schema["items"], item, f"{path}[{index}]")
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            for key in schema.get("required", []):
                if key not in value:
                    yield f"{path}.{key}: required"
            for key, item in value.items():
                if key in properties:
                    yield from self.validate(properties[key], item, f"{path}.{key}")
                elif "additionalProperties" in schema:
                    yield from self.validate(schema["additionalProperties"], item, f"{path}.{key}")
        for sub in schema.get("allOf", []):
            yield from self.validate(sub, value, path)
        if "anyOf" in schema and not any(not list(self.validate(sub, value, path)) for sub in schema["anyOf"]):
            yield f"{path}: matches none of anyOf"
        if "if" in schema and not list(self.validate(schema["if"], value, path)) and "then" in schema:
            yield from self.validate(schema["then"], value, path)


def validators(schema, fallback_only):
    found = []
    if not fallback_only:
        try:
            import jsonschema
        except ImportError:
            print("jsonschema not importable: using the built-in validator only")
        else:
            jsonschema.Draft202012Validator.check_schema(schema)
            checker = jsonschema.Draft202012Validator(schema)

            def run(document):
                return [f"$/{'/'.join(map(str, error.absolute_path))}: {error.message}"
                        for error in checker.iter_errors(document)]
            found.append(("jsonschema", run))
    mini = MiniValidator(schema)
    found.append(("built-in", mini.errors))
    return found


# --- documents the schema must accept or refuse --------------------------------------------------

FULL = {
    "name": "everything",
    "description": "uses every key the loader reads",
    "genesis": {"name": "testnet"},
    "nodes": [
        {"name": "v", "count": 3, "roles": ["validator", "provider"], "stake": 100, "key_seed": "k"},
        {"name": "quiet", "roles": [], "behaviour": "silent"},
        {"name": "r", "behaviour": "skip-replay-check"},
        {"name": "u", "behaviour": "unbounded-tables"},
        {"name": "m", "behaviour": "amnesiac", "roles": ["client"]},
    ],
    "link": {"latency": {"dist": "long-tail", "median_ms": 20, "tail_per_million": 20000, "max_factor": 8},
             "jitter_ms": 10, "loss_per_million": 1000, "duplicate_per_million": 2000, "bandwidth_kbps": 10000},
    "workload": {"ping_interval_ms": 500},
    "store": {"sync_fail_per_million": 100},
    "gst_ms": 30000,
    "duration_ms": 60000.0,
    "checks": {"ping_bound_ms": 5000, "max_peers": 64},
    "faults": [
        {"at_ms": 1000, "type": "partition", "groups": [["v1", "v2"], ["v3", "quiet"]]},
        {"at_ms": 2000, "type": "partition", "from": ["r"], "to": ["u", "m"]},
        {"at_ms": 3000, "type": "heal"},
        {"at_ms": 4000, "type": "crash", "node": "m"},
        {"at_ms": 5000, "type": "restart", "node": "m"},
        {"at_ms": 6000, "type": "drop", "per_million": 200000, "until_ms": 7000},
        {"at_ms": 6000, "type": "delay", "extra_ms": 300, "until_ms": 8000},
        {"at_ms": 7000, "type": "duplicate", "per_million": 300000, "until_ms": 9000},
        {"at_ms": 9000, "type": "clock-skew", "node": "v2", "skew_ms": -2000},
    ],
}


def edited(change):
    document = copy.deepcopy(FULL)
    change(document)
    return document


ACCEPT = [
    ("a document using every key", FULL),
    ("the smallest document", {"name": "m", "nodes": [{"name": "a"}]}),
    ("fixed latency", edited(lambda d: d["link"].update(latency={"dist": "fixed", "ms": 5}))),
    ("uniform latency", edited(lambda d: d["link"].update(latency={"dist": "uniform", "min_ms": 5, "max_ms": 9}))),
]

REFUSE = [
    ("unknown top-level key", edited(lambda d: d.update(durration_ms=5))),
    ("unknown node key", edited(lambda d: d["nodes"][1].update(rols=["validator"]))),
    ("bad role", edited(lambda d: d["nodes"][0]["roles"].append("miner"))),
    ("unknown behaviour", edited(lambda d: d["nodes"][1].update(behaviour="evil"))),
    ("unknown fault type", edited(lambda d: d["faults"][2].update(type="meteor"))),
    ("unknown distribution", edited(lambda d: d["link"].update(latency={"dist": "gaussian", "ms": 5}))),
    ("latency without its parameter", edited(lambda d: d["link"].update(latency={"dist": "fixed"}))),
    ("latency without dist", edited(lambda d: d["link"].update(latency={"ms": 5}))),
    ("fractional integer", edited(lambda d: d.update(duration_ms=60000.5))),
    ("integer as a string", edited(lambda d: d["nodes"][0].update(stake="100"))),
    ("negative integer", edited(lambda d: d.update(gst_ms=-1))),
    ("boolean for an integer", edited(lambda d: d["checks"].update(max_peers=True))),
    ("probability above one million", edited(lambda d: d["link"].update(loss_per_million=1000001))),
    ("missing name", edited(lambda d: d.pop("name"))),
    ("missing nodes", edited(lambda d: d.pop("nodes"))),
    ("no nodes", edited(lambda d: d.update(nodes=[]))),
    ("node name with a space", edited(lambda d: d["nodes"][1].update(name="a b"))),
    ("count of zero", edited(lambda d: d["nodes"][0].update(count=0))),
    ("fault without at_ms", edited(lambda d: d["faults"][2].pop("at_ms"))),
    ("crash without node", edited(lambda d: d["faults"][3].pop("node"))),
    ("drop without until_ms", edited(lambda d: d["faults"][5].pop("until_ms"))),
    ("partition without groups or from/to", edited(lambda d: d["faults"][0].pop("groups"))),
    ("one-way partition without to", edited(lambda d: d["faults"][1].pop("to"))),
    ("clock skew beyond an hour", edited(lambda d: d["faults"][8].update(skew_ms=-3600001))),
    ("negative ping interval", edited(lambda d: d["workload"].update(ping_interval_ms=-1))),
    ("dht workload without bootstrap", edited(lambda d: d["workload"].update(dht={"k": 20}))),
    ("dht k of zero", edited(lambda d: d["workload"].update(dht={"bootstrap": ["v1"], "k": 0}))),
    ("unknown dht workload key", edited(lambda d: d["workload"].update(dht={"bootstrap": ["v1"], "replicas": 3}))),
    ("unknown store key", edited(lambda d: d["store"].update(fsync=True))),
    ("unknown checks key", edited(lambda d: d["checks"].update(max_peer=3))),
    ("duration beyond a year", edited(lambda d: d.update(duration_ms=31536000001))),
    ("not an object", []),
    # Stricter than the loader, which ignores these silently (see the schema's $comment).
    ("heal with a node", edited(lambda d: d["faults"][2].update(node="m"))),
    ("fixed latency with min_ms", edited(lambda d: d["link"].update(latency={"dist": "fixed", "ms": 5, "min_ms": 1}))),
    ("description that is not a string", edited(lambda d: d.update(description=5))),
]


# --- the schema against the Swift loader's source -------------------------------------------------

def schema_object_keys(schema):
    """Property names of every object the schema describes; for objects whose keys depend on a
    discriminator (latency `dist`, fault `type`), the union over all branches."""
    found = []

    def keys_of(node):
        names = set(node.get("properties", {}))
        for branch in node.get("allOf", []):
            names |= set(branch.get("then", {}).get("properties", {}))
        return names

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                found.append(frozenset(keys_of(node)))
            for key, value in node.items():
                if key in ("properties", "$defs"):
                    for sub in value.values():
                        walk(sub)
                elif key in ("items",):
                    walk(value)
    walk(schema)
    return set(found)


def swift_function(source, name):
    start = source.find(f"static func {name}")
    end = source.find("static func ", start + 1)
    return source[start:end if end != -1 else len(source)] if start != -1 else ""


def compare(what, swift_values, node, *path):
    """The enum at `path` under `node` lists exactly `swift_values`."""
    for key in path:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    schema_values = node.get("enum", []) if isinstance(node, dict) else []
    check(swift_values and sorted(swift_values) == sorted(schema_values),
          f"{what}: Swift source has {swift_values}, the schema {schema_values}")


def check_against_source(schema):
    if not (LOADER.exists() and MODEL.exists() and ROLES.exists()):
        print("Swift sources not found: skipping the source comparison")
        return
    loader = LOADER.read_text()
    allowed = {frozenset(re.findall(r'"([^"]+)"', group))
               for group in re.findall(r"object\(allowing:\s*\[(.*?)\]\)", loader, re.S)}
    declared = schema_object_keys(schema)
    for keys in sorted(allowed - declared, key=sorted):
        check(False, f"the loader reads an object with keys {sorted(keys)}; the schema has no such object")
    for keys in sorted(declared - allowed, key=sorted):
        check(False, f"the schema describes an object with keys {sorted(keys)}; the loader reads none")
    check(allowed, "no `object(allowing:)` lists found in TopologyLoader.swift")

    defs = schema["$defs"]
    model = MODEL.read_text()
    block = re.search(r"enum Behaviour\b[^{]*\{(.*?)\n\}", model, re.S)
    behaviours = [raw or name for name, raw in re.findall(r'case (\w+)(?:\s*=\s*"([^"]+)")?', block.group(1))] \
        if block else []
    compare("behaviours", behaviours, defs, "node", "properties", "behaviour")

    faults = re.findall(r'case "([a-z-]+)"', swift_function(loader, "parseFault"))
    compare("fault types", faults, defs, "fault", "properties", "type")

    dists = re.findall(r'case "([a-z-]+)"', swift_function(loader, "parseLink"))
    compare("latency distributions", dists, defs, "latency", "properties", "dist")

    roles = re.findall(r'case "([a-z]+)"', ROLES.read_text())
    compare("roles", roles, defs, "node", "properties", "roles", "items")


def main():
    fallback_only = "--fallback" in sys.argv[1:]
    schema = json.loads(SCHEMA_PATH.read_text())
    files = sorted(TOPOLOGIES.glob("*.json"))
    check(files, f"no topologies in {TOPOLOGIES}")
    names = []
    for name, validate in validators(schema, fallback_only):
        names.append(name)
        for path in files:
            try:
                document = json.loads(path.read_text())
            except ValueError as error:
                check(False, f"{path.relative_to(ROOT)}: not JSON ({error})")
                continue
            errors = validate(document)
            check(not errors, f"[{name}] {path.relative_to(ROOT)}: " + "; ".join(errors))
        for label, document in ACCEPT:
            errors = validate(document)
            check(not errors, f"[{name}] should accept {label}: " + "; ".join(errors))
        for label, document in REFUSE:
            check(validate(document), f"[{name}] should refuse {label}")
    check_against_source(schema)

    for failure in failures:
        print(f"FAIL {failure}")
    print(f"topology schema: {checks - len(failures)}/{checks} checks passed "
          f"({len(files)} topologies; validators: {', '.join(names)})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
