#!/usr/bin/env python3
"""Validate custom resources (KEDA ScaledObject, TriggerAuthentication, ...) in rendered
Kubernetes YAML against their CRDs' openAPIV3Schema, offline.

kubernetes-validate only knows built-in kinds (it skips CRDs with a warning), so this fills
the gap. Like the API server's structural-schema pruning in strict mode, an object with
`properties` and no `additionalProperties` / `x-kubernetes-preserve-unknown-fields` rejects
unknown fields, so a typo (`cooldownPeriods`) or a wrong type (`threshold: 20` where KEDA
wants a string) fails here instead of at `kubectl apply`.

Usage: crd_validate.py CRD.yaml [CRD.yaml ...] -- RENDERED.yaml [RENDERED.yaml ...]
Exit 0 when every custom resource of a known kind is valid, 1 otherwise, 2 on bad usage or
when a rendered file has no custom resource of a known kind at all (nothing was checked).
"""

import copy
import sys

import jsonschema
import yaml


def structural(schema):
    """A copy of `schema` where every object with declared properties rejects unknown ones."""
    s = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(s)
    return s


def load_crds(paths):
    """(group, version, kind) -> structural JSON schema."""
    schemas = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                for version in spec.get("versions", []):
                    schema = version.get("schema", {}).get("openAPIV3Schema")
                    if schema is None:
                        continue
                    key = (spec["group"], version["name"], spec["names"]["kind"])
                    schemas[key] = structural(schema)
    return schemas


def main(argv):
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    crd_paths, rendered_paths = argv[:split], argv[split + 1 :]
    if not crd_paths or not rendered_paths:
        print(__doc__, file=sys.stderr)
        return 2
    schemas = load_crds(crd_paths)
    if not schemas:
        print(f"no CustomResourceDefinition with a schema in {crd_paths}", file=sys.stderr)
        return 2
    failures = 0
    for path in rendered_paths:
        checked = 0
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            api = doc.get("apiVersion", "")
            if "/" not in api:
                continue
            group, version = api.split("/", 1)
            key = (group, version, doc.get("kind"))
            if key not in schemas:
                continue
            checked += 1
            name = doc.get("metadata", {}).get("name", "?")
            validator = jsonschema.Draft7Validator(schemas[key])
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
            if errors:
                failures += 1
                for e in errors:
                    where = ".".join(str(p) for p in e.absolute_path) or "(root)"
                    print(f"FAIL {path}: {doc['kind']}/{name} at {where}: {e.message}")
            else:
                print(f"ok   {path}: {doc['kind']}/{name} ({api})")
        if checked == 0:
            print(f"FAIL {path}: no custom resource of a known kind ({sorted(k[2] for k in schemas)}) found")
            return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
