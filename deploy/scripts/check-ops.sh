#!/usr/bin/env bash
# Every offline check of the operational files (no cluster, no Docker daemon needed):
#   1. promtool check rules + test rules      deploy/prometheus/alerts.yml, alerts_test.yml
#   2. promtool check config                  deploy/prometheus/prometheus.yml (compose)
#   3. alerts have severity, summary, runbook deploy/prometheus/alerts.yml vs docs/operations.md
#   4. dashboard structure + its PromQL       deploy/grafana/dashboards/*.json (promtool)
#   5. compose file                           deploy/compose.yaml (services, mounted files)
#   6. kustomize render of both overlays      k8s/overlays/{dev,prod} (kubectl kustomize)
#   7. Kubernetes OpenAPI schemas (strict)    kubernetes-validate, offline
#   8. KEDA CRD schemas                       deploy/scripts/crd_validate.py, ../shared/schemas/keda
#   9. operational invariants                 deploy/scripts/k8s_invariants.py (drain bounds, probes,
#                                             security, PDBs, KEDA incl. scale-to-zero, volumes)
# Missing tools are installed quietly and idempotently: promtool from Debian's `prometheus`
# package (extracted, the daemon is not installed), a Python venv with kubernetes-validate,
# jsonschema and PyYAML in ~/.cache/cratedigger-ops. The live check that every metric the
# rules and dashboard use is exported runs in cargo tests (tests/tests/ops.rs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
KIT="${CRATEDIGGER_KIT_DIR:-$ROOT/../shared}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cratedigger-ops"
K8S_VERSION="${CRATEDIGGER_K8S_VERSION:-1.30.0}"
PY_REQS="kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.3"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/cratedigger-ops.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$CACHE"

SUMMARY=()
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# run NAME CMD...: runs one check, prints its output only on failure, records its time.
run() {
    local name="$1"; shift
    local t0; t0="$(now)"
    if "$@" >"$OUT/log" 2>&1; then
        SUMMARY+=("$(printf 'ok    %6ss  %s' "$(elapsed "$t0")" "$name")")
        grep -E '^(note|WARN)' "$OUT/log" || true
    else
        echo "FAILED: $name ($*)"
        cat "$OUT/log"
        exit 1
    fi
}
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}
apt_updated=0
apt_update_once() {
    if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq >/dev/null; apt_updated=1; fi
}

t_setup="$(now)"
# --- promtool: Debian's package, extracted (installing it would also install the daemon).
if command -v promtool >/dev/null 2>&1; then
    PROMTOOL="$(command -v promtool)"
elif [ -x "$CACHE/prometheus/usr/bin/promtool" ]; then
    PROMTOOL="$CACHE/prometheus/usr/bin/promtool"
else
    echo "installing promtool (Debian package prometheus, extracted into $CACHE/prometheus)"
    (
        cd "$OUT"
        apt-get download prometheus >/dev/null 2>&1 || { apt_update_once; apt-get download prometheus >/dev/null; }
        dpkg-deb -x prometheus_*.deb "$CACHE/prometheus"
    )
    PROMTOOL="$CACHE/prometheus/usr/bin/promtool"
fi

# --- Python tools in a venv (Debian's system Python refuses global pip installs).
VENV="$CACHE/venv"
if [ ! -f "$VENV/.reqs" ] || [ "$(cat "$VENV/.reqs")" != "$PY_REQS" ]; then
    echo "installing $PY_REQS into $VENV"
    python3 -m venv "$VENV" 2>/dev/null || { apt_update_once; as_root apt-get install -y -qq python3-venv >/dev/null; python3 -m venv "$VENV"; }
    # shellcheck disable=SC2086
    "$VENV/bin/pip" install --quiet --disable-pip-version-check $PY_REQS
    echo "$PY_REQS" >"$VENV/.reqs"
fi
PY="$VENV/bin/python"

# --- kubectl (kustomize v5 inside). Debian's kubernetes-client (1.20) is the only package
# registry source; its kustomize v2 cannot read `labels`/`patches`, which the render reports.
if ! command -v kubectl >/dev/null 2>&1; then
    echo "kubectl not found; installing Debian's kubernetes-client"
    apt_update_once
    as_root apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
SUMMARY+=("$(printf 'ok    %6ss  %s' "$(elapsed "$t_setup")" "tools: $("$PROMTOOL" --version 2>&1 | head -n1 | cut -d' ' -f1-3), kubernetes-validate $("$VENV/bin/kubernetes-validate" --version), kubectl $(kubectl version --client 2>/dev/null | head -n1 | awk '{print $3}')")")

# 1-3. Prometheus
run "promtool check rules deploy/prometheus/alerts.yml" "$PROMTOOL" check rules deploy/prometheus/alerts.yml
run "promtool test rules deploy/prometheus/alerts_test.yml (every alert fires and stays silent)" \
    "$PROMTOOL" test rules deploy/prometheus/alerts_test.yml
run "promtool check config deploy/prometheus/prometheus.yml" "$PROMTOOL" check config deploy/prometheus/prometheus.yml
run "alerts: severity, summary, runbook section in docs/operations.md" \
    "$PY" deploy/scripts/ops_lint.py runbooks deploy/prometheus/alerts.yml docs/operations.md

# 4. Grafana
for dash in deploy/grafana/dashboards/*.json; do
    rules="$OUT/$(basename "$dash" .json)-promql.yml"
    run "dashboard structure: $dash" "$PY" deploy/scripts/ops_lint.py dashboard "$dash" "$rules"
    run "dashboard PromQL parses (promtool): $dash" "$PROMTOOL" check rules "$rules"
done

# 5. Compose
run "compose file: deploy/compose.yaml" "$PY" deploy/scripts/ops_lint.py compose deploy/compose.yaml

# 6-9. Kubernetes
KEDA_CRDS=("$KIT/schemas/keda/keda.sh_scaledobjects.yaml" "$KIT/schemas/keda/keda.sh_triggerauthentications.yaml")
for crd in "${KEDA_CRDS[@]}"; do
    [ -f "$crd" ] || { echo "FAILED: KEDA CRD schema not found at $crd (the reference kit ../shared, or set CRATEDIGGER_KIT_DIR)"; exit 1; }
done
render() {
    if ! kubectl kustomize "k8s/overlays/$1" >"$2"; then
        echo "(needs kubectl >= 1.21, whose kustomize reads \`labels\` and \`patches\`; Debian's kubernetes-client 1.20 is too old)"
        return 1
    fi
    echo "$(grep -c '^kind:' "$2") objects"
}
for overlay in dev prod; do
    rendered="$OUT/k8s-$overlay.yaml"
    run "kubectl kustomize k8s/overlays/$overlay" render "$overlay" "$rendered"
    run "kubernetes-validate --strict (Kubernetes $K8S_VERSION schemas): $overlay" \
        "$VENV/bin/kubernetes-validate" --strict --quiet --no-warn -k "$K8S_VERSION" "$rendered"
    run "KEDA CRD schema (ScaledObject): $overlay" "$PY" deploy/scripts/crd_validate.py "${KEDA_CRDS[@]}" -- "$rendered"
    run "invariants (grace > shutdown > longest job, probes, non-root, PDBs, KEDA, scale to zero, volumes): $overlay" \
        "$PY" deploy/scripts/k8s_invariants.py "$rendered"
done

echo "check-ops: every offline operations check passed"
printf '  %s\n' "${SUMMARY[@]}"
echo "  not checkable here: docker build (no daemon), kubectl apply / admission, KEDA scaling, Grafana rendering"
