#!/usr/bin/env python3
"""Assert the operational invariants of a rendered cratedigger overlay (`kubectl kustomize`
output), the ones no schema can check:

- a Deployment per role; the scheduler a singleton (replicas 1, Recreate) behind a Service;
  worker replicas owned by KEDA (no `replicas`), one ScaledObject per worker role on the
  scheduler's queue gauges for that role's queue, in this overlay's namespace;
- terminationGracePeriodSeconds > CRATEDIGGER__WORKERS__SHUTDOWN_TIMEOUT_SECS > longest job
  (annotation cratedigger.io/longest-job-seconds) for every worker role;
- liveness on /healthz, readiness on /readyz, on a declared port; requests and a memory limit;
- non-root, read-only root filesystem, no privilege escalation, all capabilities dropped;
  the binary itself is the command (PID 1 gets SIGTERM; no `sh -c`);
- one PodDisruptionBudget per role, by maxUnavailable >= 1 (never minAvailable, which blocks
  drains at one replica), selecting that role's pods;
- a default-deny NetworkPolicy over the fleet; Secret/ConfigMap references that resolve (a
  Secret absent from the render must be created out of band: reported, not failed);
- images pinned to something other than `latest`;
- the acquisition roles: acquisition-scout and quality-assessor scale to ZERO (minReplicaCount
  0, a fallback of at least 1 replica), the others do not need to; each longest-job annotation
  covers the setting that bounds the job (discovery deadline, download timeout) and no job
  queues behind an in-process slot first (worker concurrency <= download / analysis slots);
- volumes: every pod that mounts the library also mounts staging; library, staging and slskd
  downloads are claims of one family (same storage class, access modes and
  cratedigger.io/volume-family label); a claim mounted by several pods is ReadWriteMany (or
  ReadWriteOnce marked cratedigger.io/single-node); each role mounts what it uses (writers
  read-write, the scheduler read-only) at the path its settings name.

Usage: k8s_invariants.py RENDERED.yaml   (exit 0 when all hold, 1 with one line per breach)
"""

import re
import sys

import yaml

WORKERS = {
    "research-lead": "research",
    "metadata-scout": "metadata",
    "consolidator": "consolidate",
    "discovery-scout": "discovery",
    "acquisition-scout": "download",
    "quality-assessor": "analysis",
}
ROLES = ["scheduler", *WORKERS]
# Roles that must scale to zero when their queue is empty (bursty, costly while idle).
SCALE_TO_ZERO = {"acquisition-scout", "quality-assessor"}

# Acquisition volumes, by the claim label cratedigger.io/volume, and the setting naming the path
# each is mounted at.
VOLUME_PATH_SETTING = {
    "library": "CRATEDIGGER__ACQUISITION__LIBRARY_DIR",
    "staging": "CRATEDIGGER__ACQUISITION__STAGING_DIR",
    "slskd-downloads": "CRATEDIGGER__SOURCES__SOULSEEK__DOWNLOADS_DIR",
}
# role -> {volume: needs write access}. Roles not listed mount none of them.
VOLUME_USE = {
    "scheduler": {"library": False, "staging": False},  # disk gauges only
    "consolidator": {"library": True, "staging": True},  # files verified downloads
    "acquisition-scout": {"staging": True, "library": False, "slskd-downloads": True},
    "quality-assessor": {"staging": True},  # writes tags into staged files
}
# Default per-source download slots of one acquisition scout (AcquisitionSettings::concurrency_for).
DEFAULT_DOWNLOAD_SLOTS = 2


def component(obj):
    return obj.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/component")


def env_value(container, name):
    for e in container.get("env", []):
        if e.get("name") == name:
            return e.get("value")
    return None


def setting(container, configmaps, name):
    """A setting as the container sees it: its own env, else a ConfigMap it loads."""
    v = env_value(container, name)
    if v is not None:
        return v
    for ef in container.get("envFrom", []):
        ref = ef.get("configMapRef", {}).get("name")
        if ref in configmaps and name in configmaps[ref]:
            return configmaps[ref][name]
    return None


def as_int(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def main(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    errors = []
    notes = []

    def err(msg):
        errors.append(msg)

    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    deployments = {
        component(d): d
        for d in by_kind.get("Deployment", [])
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "cratedigger"
    }
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in by_kind.get("ConfigMap", [])}
    claims = {d["metadata"]["name"]: d for d in by_kind.get("PersistentVolumeClaim", [])}
    claim_kind = {n: c["metadata"].get("labels", {}).get("cratedigger.io/volume") for n, c in claims.items()}
    mounted_by = {}  # claim name -> Deployment names
    secrets = {d["metadata"]["name"] for d in by_kind.get("Secret", [])}
    missing_secrets = set()

    for role in ROLES:
        dep = deployments.get(role)
        if dep is None:
            err(f"no Deployment for role {role} (label app.kubernetes.io/component={role})")
            continue
        name = dep["metadata"]["name"]
        ns = dep["metadata"].get("namespace")
        spec = dep["spec"]
        pod = spec["template"]["spec"]
        pod_labels = spec["template"]["metadata"].get("labels", {})
        if not selects(spec["selector"], pod_labels):
            err(f"{name}: selector does not match its pod labels")
        containers = pod.get("containers", [])
        if len(containers) != 1:
            err(f"{name}: expected one container, found {len(containers)}")
            continue
        c = containers[0]

        # Singleton vs KEDA-owned replicas.
        if role == "scheduler":
            if spec.get("replicas") != 1:
                err(f"{name}: the scheduler must run exactly 1 replica, found {spec.get('replicas')}")
            if spec.get("strategy", {}).get("type") != "Recreate":
                err(f"{name}: the scheduler must use strategy Recreate (never two reconcilers)")
            svc = [
                s for s in by_kind.get("Service", [])
                if s["spec"].get("selector") and all(pod_labels.get(k) == v for k, v in s["spec"]["selector"].items())
            ]
            if not svc:
                err(f"{name}: no Service selects the scheduler pods")
            if c.get("command", [])[:2] != ["/usr/local/bin/cratedigger", "serve"]:
                err(f"{name}: command must be /usr/local/bin/cratedigger serve, found {c.get('command')}")
        else:
            if "replicas" in spec:
                err(f"{name}: worker replicas are owned by KEDA; remove `replicas` (found {spec['replicas']})")
            ru = spec.get("strategy", {}).get("rollingUpdate", {})
            if spec.get("strategy", {}).get("type") != "RollingUpdate" or str(ru.get("maxUnavailable")) != "0":
                err(f"{name}: workers roll with RollingUpdate and maxUnavailable 0 (no capacity lost during upgrades)")
            if c.get("command") != [f"/usr/local/bin/{role}"]:
                err(f"{name}: command must be the binary itself [/usr/local/bin/{role}], found {c.get('command')}")
            queue = dep["metadata"].get("annotations", {}).get("cratedigger.io/queue")
            if queue != WORKERS[role]:
                err(f"{name}: annotation cratedigger.io/queue must be {WORKERS[role]}, found {queue}")

        # Grace period > shutdown timeout > longest job.
        grace = pod.get("terminationGracePeriodSeconds")
        longest = dep["metadata"].get("annotations", {}).get("cratedigger.io/longest-job-seconds")
        if grace is None or longest is None:
            err(f"{name}: needs terminationGracePeriodSeconds and annotation cratedigger.io/longest-job-seconds")
        elif role == "scheduler":
            if not grace > int(longest):
                err(f"{name}: terminationGracePeriodSeconds {grace} must exceed the longest request {longest}")
        else:
            shutdown = env_value(c, "CRATEDIGGER__WORKERS__SHUTDOWN_TIMEOUT_SECS")
            if shutdown is None:
                err(f"{name}: CRATEDIGGER__WORKERS__SHUTDOWN_TIMEOUT_SECS is not set")
            elif not grace > int(shutdown) > int(longest):
                err(f"{name}: need terminationGracePeriodSeconds ({grace}) > shutdown timeout ({shutdown}) > longest job ({longest})")

        # What bounds the longest job must be set, and covered by the annotation.
        lj = as_int(longest)
        conc = as_int(env_value(c, "CRATEDIGGER__WORKERS__CONCURRENCY"))
        if role == "discovery-scout":
            deadline = as_int(env_value(c, "CRATEDIGGER__ACQUISITION__DISCOVERY_DEADLINE_SECS"))
            if deadline is None:
                err(f"{name}: set CRATEDIGGER__ACQUISITION__DISCOVERY_DEADLINE_SECS (it bounds the longest job)")
            elif lj is not None and not lj > deadline:
                err(f"{name}: longest job ({lj}) must exceed the discovery deadline ({deadline})")
        if role == "acquisition-scout":
            timeout = as_int(env_value(c, "CRATEDIGGER__ACQUISITION__DOWNLOAD_TIMEOUT_SECS"))
            if timeout is None:
                err(f"{name}: set CRATEDIGGER__ACQUISITION__DOWNLOAD_TIMEOUT_SECS (it bounds the longest job)")
            elif lj is not None and not lj > timeout:
                err(f"{name}: longest job ({lj}) must exceed the download timeout ({timeout})")
            slots = [
                as_int(e.get("value"))
                for e in c.get("env", [])
                if e.get("name", "").startswith("CRATEDIGGER__ACQUISITION__DOWNLOAD_CONCURRENCY__")
            ]
            fewest = min([DEFAULT_DOWNLOAD_SLOTS, *[x for x in slots if x is not None]])
            if conc is None or conc > fewest:
                err(f"{name}: CRATEDIGGER__WORKERS__CONCURRENCY ({conc}) must be set and not above the fewest download slots of a source ({fewest}), or a job waits for a slot and outlasts the longest-job bound")
        if role == "quality-assessor":
            slots = as_int(env_value(c, "CRATEDIGGER__ACQUISITION__ANALYSIS_CONCURRENCY"))
            if slots is None or conc is None or conc > slots:
                err(f"{name}: set CRATEDIGGER__WORKERS__CONCURRENCY ({conc}) not above CRATEDIGGER__ACQUISITION__ANALYSIS_CONCURRENCY ({slots}), or a job waits for a decode slot and outlasts the longest-job bound")

        # Acquisition volumes: what the role mounts, how, and where.
        pod_volumes = {v.get("name"): v for v in pod.get("volumes", [])}
        mounts = {}  # volume kind -> (mount, claim name, read-only)
        for m in c.get("volumeMounts", []):
            pvc = pod_volumes.get(m.get("name"), {}).get("persistentVolumeClaim")
            if not pvc:
                continue
            claim = pvc.get("claimName")
            mounted_by.setdefault(claim, set()).add(name)
            if claim not in claims:
                err(f"{name}: mounts claim {claim}, which is not in the render")
                continue
            kind = claim_kind.get(claim)
            read_only = bool(m.get("readOnly") or pvc.get("readOnly"))
            mounts[kind] = (m, claim, read_only)
        wanted = VOLUME_USE.get(role, {})
        for kind, (m, claim, read_only) in mounts.items():
            if kind not in wanted:
                err(f"{name}: mounts the {kind} volume ({claim}) but the role does not use it")
        for kind, needs_write in wanted.items():
            if kind not in mounts:
                err(f"{name}: must mount the {kind} volume (the role {'writes' if needs_write else 'reads'} it)")
                continue
            m, claim, read_only = mounts[kind]
            if needs_write and read_only:
                err(f"{name}: mounts the {kind} volume read-only but writes to it")
            if not needs_write and not read_only:
                err(f"{name}: mounts the {kind} volume read-write; it only reads it, mount it readOnly")
            want_path = setting(c, configmaps, VOLUME_PATH_SETTING[kind])
            if want_path is None:
                err(f"{name}: {VOLUME_PATH_SETTING[kind]} is not set, so the process would not use the mounted {kind} volume")
            elif m.get("mountPath", "").rstrip("/") != want_path.rstrip("/"):
                err(f"{name}: the {kind} volume is mounted at {m.get('mountPath')} but {VOLUME_PATH_SETTING[kind]} is {want_path}")
        if "library" in mounts and "staging" not in mounts:
            err(f"{name}: mounts the library without staging (files reach the library only through staging)")

        # Probes.
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        for probe, path_ in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            http = c.get(probe, {}).get("httpGet")
            if not http or http.get("path") != path_:
                err(f"{name}: {probe} must be an httpGet on {path_}")
            elif http.get("port") not in ports and http.get("port") not in ports.values():
                err(f"{name}: {probe} port {http.get('port')} is not a declared container port")

        # Resources.
        res = c.get("resources", {})
        if not {"cpu", "memory"} <= set(res.get("requests", {})):
            err(f"{name}: set cpu and memory requests")
        if "memory" not in res.get("limits", {}):
            err(f"{name}: set a memory limit")

        # Security.
        psc = pod.get("securityContext", {})
        csc = c.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True and csc.get("runAsNonRoot") is not True:
            err(f"{name}: runAsNonRoot must be true")
        if psc.get("runAsUser", csc.get("runAsUser", 0)) == 0:
            err(f"{name}: runAsUser must be a non-zero uid")
        if csc.get("readOnlyRootFilesystem") is not True:
            err(f"{name}: readOnlyRootFilesystem must be true")
        if csc.get("allowPrivilegeEscalation") is not False:
            err(f"{name}: allowPrivilegeEscalation must be false")
        if "ALL" not in csc.get("capabilities", {}).get("drop", []):
            err(f"{name}: capabilities must drop ALL")
        if pod.get("automountServiceAccountToken") is not False:
            err(f"{name}: automountServiceAccountToken must be false (the fleet never calls the Kubernetes API)")

        # References.
        for ef in c.get("envFrom", []):
            ref = ef.get("configMapRef", {}).get("name")
            if ref and ref not in configmaps:
                err(f"{name}: envFrom ConfigMap {ref} is not part of the render")
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["name"] not in secrets and not ref.get("optional"):
                missing_secrets.add(ref["name"])

        # Image.
        image = c.get("image", "")
        if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
            err(f"{name}: pin the image to a release tag or digest, found {image!r}")

        # PDB.
        pdbs = [
            p for p in by_kind.get("PodDisruptionBudget", [])
            if selects(p["spec"].get("selector", {}), pod_labels)
        ]
        if len(pdbs) != 1:
            err(f"{name}: expected exactly one PodDisruptionBudget for role {role}, found {len(pdbs)}")
        else:
            p = pdbs[0]["spec"]
            if "minAvailable" in p:
                err(f"{name}: PDB uses minAvailable (blocks node drains at one replica); use maxUnavailable")
            if str(p.get("maxUnavailable", "0")) in ("0", "0%"):
                err(f"{name}: PDB maxUnavailable must be at least 1")

        # KEDA.
        if role in WORKERS:
            sos = [
                s for s in by_kind.get("ScaledObject", [])
                if s["spec"]["scaleTargetRef"]["name"] == name
            ]
            if len(sos) != 1:
                err(f"{name}: expected exactly one ScaledObject targeting it, found {len(sos)}")
                continue
            so = sos[0]
            if so["metadata"].get("namespace") != ns:
                err(f"{name}: ScaledObject is in namespace {so['metadata'].get('namespace')}, the Deployment in {ns}")
            triggers = so["spec"].get("triggers", [])
            prom = [t for t in triggers if t.get("type") == "prometheus"]
            if not prom:
                err(f"{so['metadata']['name']}: needs a prometheus trigger on the scheduler's queue gauges")
                continue
            query = prom[0]["metadata"].get("query", "")
            if "cratedigger_queue_depth" not in query:
                err(f"{so['metadata']['name']}: query must use cratedigger_queue_depth: {query}")
            if f'queue="{WORKERS[role]}"' not in query:
                err(f"{so['metadata']['name']}: query must select queue=\"{WORKERS[role]}\": {query}")
            namespaces = set(re.findall(r'namespace="([^"]*)"', query))
            if ns and namespaces != {ns}:
                err(f"{so['metadata']['name']}: query must select namespace=\"{ns}\" (the overlay's), found {sorted(namespaces)}")
            if role in SCALE_TO_ZERO:
                so_name = so["metadata"]["name"]
                if so["spec"].get("minReplicaCount", 0) != 0:
                    err(f"{so_name}: {role} must scale to zero (minReplicaCount 0), found {so['spec'].get('minReplicaCount')}")
                if so["spec"].get("idleReplicaCount") not in (None, 0):
                    err(f"{so_name}: idleReplicaCount must be unset or 0")
                if as_int(so["spec"].get("fallback", {}).get("replicas")) in (None, 0):
                    err(f"{so_name}: a role at zero needs fallback.replicas >= 1, or a Prometheus outage strands its queue")
                if "cratedigger_queue_depth" not in query or "cratedigger_queue_inflight" not in query:
                    err(f"{so_name}: the wake-up query must count waiting and held jobs: {query}")

    # Volume family: library, staging and slskd downloads alike; shared claims RWX.
    family = {}
    for claim, c in claims.items():
        kind = claim_kind.get(claim)
        if kind is None:
            continue
        spec = c.get("spec", {})
        family[kind] = (
            spec.get("storageClassName"),
            tuple(sorted(spec.get("accessModes", []))),
            c["metadata"].get("labels", {}).get("cratedigger.io/volume-family"),
        )
        users = mounted_by.get(claim, set())
        single_node = c["metadata"].get("annotations", {}).get("cratedigger.io/single-node") == "true"
        if users and "ReadWriteMany" not in spec.get("accessModes", []) and not single_node:
            err(f"PersistentVolumeClaim {claim}: mounted by {sorted(users)} (each possibly on another node) but not ReadWriteMany; mark it cratedigger.io/single-node only on a one-node cluster")
        if not users:
            err(f"PersistentVolumeClaim {claim}: no Deployment mounts it")
    for kind in ("library", "staging"):
        if kind not in family:
            err(f"no PersistentVolumeClaim labelled cratedigger.io/volume={kind}")
    if len(set(family.values())) > 1:
        err(f"the acquisition claims are not one family (storage class, access modes, volume-family label): {family}")

    # Network policy: default deny over the fleet.
    deny = [
        n for n in by_kind.get("NetworkPolicy", [])
        if n["spec"].get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == "cratedigger"
        and set(n["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not n["spec"].get("ingress") and not n["spec"].get("egress")
    ]
    if not deny:
        err("no default-deny NetworkPolicy (Ingress and Egress, no rules) over app.kubernetes.io/name=cratedigger")

    for s in sorted(missing_secrets):
        notes.append(f"Secret {s} is not in this render: create it before applying (docs/operations.md#secrets)")

    for n in notes:
        print(f"note {path}: {n}")
    for e in errors:
        print(f"FAIL {path}: {e}")
    if not errors:
        print(
            f"ok   {path}: {len(ROLES)} roles, grace > shutdown > longest job, probes, non-root, PDBs, KEDA "
            f"({', '.join(sorted(SCALE_TO_ZERO))} to zero), {len(claims)} volumes of one family, network policy"
        )
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
