#!/usr/bin/env bash
# Deploys dragnet to the AWS account and region of the current AWS credentials:
#   bash deploy/aws/deploy.sh STACK_NAME ARTIFACT_BUCKET [Parameter=Value ...]
# e.g. bash deploy/aws/deploy.sh dragnet my-artifacts AlertEmail=sec@example.com
#
# Builds the Lambda zips when missing (deploy/package-lambda.sh), uploads them and the state
# machine definition to ARTIFACT_BUCKET (`aws cloudformation package`), and creates or updates
# the stack (`aws cloudformation deploy`). Uses the AWS CLI on PATH, else installs awscli from
# PyPI under target/deploy-tools. STACK_NAME must be lowercase: bucket names start with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 2 ]; then
    sed -n '2,4p' "$0" >&2
    exit 2
fi
stack=$1
artifacts=$2
shift 2
if ! [[ $stack =~ ^[a-z][a-z0-9-]{0,30}$ ]]; then
    echo "stack name $stack: use 1-31 lowercase letters, digits and '-', starting with a letter (bucket names start with it)" >&2
    exit 2
fi
for function in dragnet-scan-lambda dragnet-quarantine-lambda; do
    if [ ! -f "target/lambda/$function/bootstrap.zip" ]; then
        bash deploy/package-lambda.sh
        break
    fi
done
aws=aws
if ! command -v aws >/dev/null; then
    python3 -m venv target/deploy-tools/awscli
    target/deploy-tools/awscli/bin/pip install --quiet --disable-pip-version-check awscli
    aws=target/deploy-tools/awscli/bin/aws
fi
mkdir -p target/deploy
"$aws" cloudformation package \
    --template-file deploy/aws/template.json \
    --s3-bucket "$artifacts" \
    --s3-prefix "$stack" \
    --use-json \
    --output-template-file target/deploy/packaged.json
"$aws" cloudformation deploy \
    --template-file target/deploy/packaged.json \
    --stack-name "$stack" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    ${1:+--parameter-overrides "$@"}
"$aws" cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].Outputs' --output table
