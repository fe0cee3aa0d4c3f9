#!/usr/bin/env bash
# Checks the deployment files with the tools their platforms publish: cfn-lint (PyPI) on the
# CloudFormation/SAM template, asl-validator (npm) on the state machine definition,
# kubernetes-validate (PyPI, strict schemas) and check_kubernetes.py on the manifests, and
# openapi-spec-validator (PyPI) on the API document docs/openapi.json.
# The tools are installed under target/deploy-tools on first use. The template's own
# guarantees (logging, masking, public access, IAM) are asserted by `cargo test --test deploy`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=target/deploy-tools
if [ ! -x "$tools/venv/bin/cfn-lint" ] || [ ! -x "$tools/venv/bin/kubernetes-validate" ] \
    || [ ! -x "$tools/venv/bin/openapi-spec-validator" ]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check \
        'cfn-lint>=1.20,<2' 'kubernetes-validate>=1.30,<2' 'PyYAML>=6' \
        'openapi-spec-validator>=0.7,<1'
fi
if [ ! -x "$tools/node/node_modules/.bin/asl-validator" ]; then
    npm install --silent --no-audit --no-fund --prefix "$tools/node" 'asl-validator@^4' >/dev/null
fi
echo "== cfn-lint deploy/aws/template.json"
"$tools/venv/bin/cfn-lint" deploy/aws/template.json
echo "== asl-validator deploy/aws/statemachine.asl.json"
"$tools/node/node_modules/.bin/asl-validator" --json-path deploy/aws/statemachine.asl.json
echo "== kubernetes-validate --strict deploy/kubernetes"
manifests=$(ls deploy/kubernetes/*.yaml | grep -v kustomization.yaml)
# shellcheck disable=SC2086
"$tools/venv/bin/kubernetes-validate" --strict --quiet $manifests
echo "== deploy/check_kubernetes.py"
"$tools/venv/bin/python" deploy/check_kubernetes.py
echo "== openapi-spec-validator docs/openapi.json"
"$tools/venv/bin/openapi-spec-validator" docs/openapi.json
echo "deploy: all checks passed"
