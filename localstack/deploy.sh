#!/usr/bin/env bash
# Deploys the Lazyflow CDK stack (infra/) onto the running emulator with the real function
# binaries, then applies the post-deploy workarounds for what the emulator drops from the template.
#
#   1. builds every functions/<name> main package for the HOST architecture (the emulator runs
#      bootstraps as local processes) into build/lambda-local/<name>/bootstrap;
#   2. creates the CDK assets bucket (CliCredentialsStackSynthesizer needs only that);
#   3. `cdk deploy` with the pinned CLI (.tools/cdk), which synthesizes infra/ with the emulator
#      profile (-c local=1 -c arch=<host>) and short timeouts, into .cache/localstack/cdk.out;
#   4. writes the stack outputs, flattened, to .cache/localstack/outputs.json;
#   5. post-deploy: UpdateTimeToLive on the table (CloudFormation ignored it) and short queue
#      visibility timeouts (see LAZYFLOW_LOCAL_VISIBILITY below).
#
# Usage: localstack/deploy.sh            (after localstack/up.sh; reads .cache/localstack/env)
# Idempotent: a second run rebuilds, and `cdk deploy` updates the stack in place (or reports
# "no changes"); the workarounds are re-applied each time. Any failing step stops the script.
#
# Environment (all optional):
#   LAZYFLOW_STAGE             stack stage, default "local" (stack Lazyflow-local)
#   LAZYFLOW_LOCAL_VISIBILITY  seconds; the visibility timeout of all four queues after
#                              deploy (default 10). infra sets 6x the consumer's timeout, which
#                              is right on AWS but makes every redelivery test wait minutes.
#   LAZYFLOW_LOCAL_CONTEXT     extra "-c key=value ..." for the synth (overrides the defaults)
#   LAZYFLOW_ASSET_DIR         use prebuilt binaries from this directory and skip step 1
#   LAZYFLOW_APP               the CDK app to deploy, a folder holding cdk.json relative to the
#                              repo (default infra; examples/aws-app/cdk is the example app,
#                              whose stack holds the Lazyflow construct beside its own resources)
#   LAZYFLOW_STACK             the stack to deploy (default Lazyflow-$LAZYFLOW_STAGE)
#   LAZYFLOW_OUTPUTS           file name of the flattened outputs in .cache/localstack
#                              (default outputs.json)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.cache/localstack"
CDK="$ROOT/.tools/cdk/node_modules/.bin/cdk"
STAGE="${LAZYFLOW_STAGE:-local}"
STACK="${LAZYFLOW_STACK:-Lazyflow-$STAGE}"
APP="${LAZYFLOW_APP:-infra}"
OUTPUTS="${LAZYFLOW_OUTPUTS:-outputs.json}"
# Each stack keeps its own cloud assembly and logs, so deploying a second app leaves the first's.
suffix=""
[[ "$STACK" == "Lazyflow-$STAGE" ]] || suffix=".$STACK"
VISIBILITY="${LAZYFLOW_LOCAL_VISIBILITY:-10}"
ASSETS_BUCKET="cdk-hnb659fds-assets-000000000000-us-east-1"

die() { echo "deploy.sh: $*" >&2; exit 1; }
log() { echo "deploy.sh: $*"; }

# --- endpoint --------------------------------------------------------------------------------
if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
  [[ -f "$STATE/env" ]] || die "no emulator: AWS_ENDPOINT_URL is unset and $STATE/env is missing; run localstack/up.sh first"
  set -a; . "$STATE/env"; set +a
fi
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
EP="${AWS_ENDPOINT_URL%/}"
curl -s -o /dev/null -m 5 "$EP/" || die "emulator at $EP does not answer; run localstack/up.sh"

# --- 1. binaries -----------------------------------------------------------------------------
arch_go="$(go env GOARCH)"
case "$arch_go" in
  amd64) arch_cdk=x86_64 ;;
  arm64) arch_cdk=arm64 ;;
  *) die "host GOARCH $arch_go has no Lambda architecture (want amd64 or arm64)" ;;
esac
if [[ -n "${LAZYFLOW_ASSET_DIR:-}" ]]; then
  assets="$(cd "$LAZYFLOW_ASSET_DIR" && pwd)"
  log "using prebuilt binaries in $assets"
else
  # A separate folder from build/lambda: `make build` puts the arm64 release binaries there, and
  # a host-arch build must never be shipped to AWS under an arm64 label (or the reverse).
  assets="$ROOT/build/lambda-local"
  names=()
  for d in "$ROOT"/functions/*/; do
    n="$(basename "$d")"
    [[ "$n" == internal || "$n" == local ]] && continue
    grep -qs '^package main' "$d"*.go && names+=("$n")
  done
  for want in api engine runner; do
    [[ -d "$ROOT/functions/$want" ]] && grep -qs '^package main' "$ROOT/functions/$want/"*.go ||
      die "functions/$want has no main package yet: the stack needs api, engine and runner"
  done
  # One go command for all of them: the shared packages compile once and the links run in
  # parallel (it writes each binary under the package's directory name).
  log "building ${names[*]} for linux/$arch_go"
  tmp="$assets/.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  pkgs=()
  for n in "${names[@]}"; do pkgs+=("./functions/$n"); done
  (cd "$ROOT" && GOOS=linux GOARCH="$arch_go" CGO_ENABLED=0 \
    go build -trimpath -tags lambda.norpc -o "$tmp/" "${pkgs[@]}") ||
    die "go build ${pkgs[*]} failed"
  for n in "${names[@]}"; do
    mkdir -p "$assets/$n"
    mv -f "$tmp/$n" "$assets/$n/bootstrap"
  done
  rmdir "$tmp"
fi

# --- 2. CDK CLI and assets bucket ------------------------------------------------------------
"$ROOT/localstack/install.sh" cdk >/dev/null || die "installing the CDK CLI failed"
code="$(curl -s -o "$STATE/bucket.out" -w '%{http_code}' -X PUT "$EP/$ASSETS_BUCKET")"
case "$code" in
  200) log "assets bucket $ASSETS_BUCKET ready" ;;
  409) log "assets bucket $ASSETS_BUCKET already exists" ;;
  *) cat "$STATE/bucket.out" >&2; die "creating the assets bucket failed with HTTP $code" ;;
esac

# --- 3. synth + deploy -----------------------------------------------------------------------
# - apiBaseUrl: ApiUrl and the runner's callback URLs point at the emulator, not amazonaws.com.
# - 20 s timeouts: the suite's actions take well under a second; a function killed at its
#   timeout is redelivered only after the queue's visibility timeout (step 5 shortens it).
# - Mapping concurrency 5 (infra: 50 engine, 100 runner): MiniStack serves every API call from
#   one Python process, so on 2 cores more concurrent functions only make each batch slower.
#   With 50/100 the 100x20 load test saw engine batches run past 18 s, messages handed back
#   ("not enough time left") until they reached the DLQ and failed healthy executions; with 5
#   it finished in under a minute with no redelivery.
# - userFunctionArns: the user's function the suite's aws.lambda.invoke calls (e2e/awsactions_test.go).
# - maxReceiveCount 5 (infra's default): one receive too few under load dead-letters a healthy
#   message; 5 x 10 s still gets a poison message to its DLQ within a minute.
context=(-c local=1 -c "arch=$arch_cdk" -c "assetDir=$assets" -c "stage=$STAGE"
  -c "apiBaseUrl=$EP/_aws/execute-api"
  -c apiTimeout=20 -c engineTimeout=20 -c runnerTimeout=20 -c dlqTimeout=20
  -c engineMaxConcurrency=5 -c runnerMaxConcurrency=5 -c maxReceiveCount=5
  -c retentionDays=1 -c logLevel=info
  -c "userFunctionArns=arn:aws:lambda:us-east-1:000000000000:function:lazyflow-e2e-user-fn")
# shellcheck disable=SC2206 # word splitting of the extra context is the point
[[ -z "${LAZYFLOW_LOCAL_CONTEXT:-}" ]] || context+=(${LAZYFLOW_LOCAL_CONTEXT})
out="$STATE/cdk.out$suffix"
mkdir -p "$STATE"
export CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1 CDK_S3_FORCE_PATH_STYLE=1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-20}"
log "cdk deploy $STACK onto $EP (${context[*]})"
start=$SECONDS
[[ -f "$ROOT/$APP/cdk.json" ]] || die "$APP has no cdk.json (LAZYFLOW_APP must name a CDK app folder)"
(cd "$ROOT/$APP" && "$CDK" deploy "$STACK" "${context[@]}" --output "$out" \
  --require-approval never --no-notices --progress events \
  --outputs-file "$STATE/cdk-outputs$suffix.json") >"$STATE/deploy$suffix.log" 2>&1 || {
  tail -n 40 "$STATE/deploy$suffix.log" >&2
  die "cdk deploy failed (full log: $STATE/deploy$suffix.log)"
}
log "cdk deploy done in $((SECONDS - start)) s"

# --- 4. outputs ------------------------------------------------------------------------------
python3 - "$STATE/cdk-outputs$suffix.json" "$STACK" "$STATE/$OUTPUTS" <<'PY' || die "reading stack outputs failed"
import json, sys
src, stack, dst = sys.argv[1:]
outs = json.load(open(src)).get(stack)
if not outs:
    sys.exit(f"no outputs for {stack} in {src}")
need = ["ApiId", "TableName", "TaskQueueUrl", "ResultQueueUrl", "TaskDlqUrl", "ResultDlqUrl", "CallbackSecretArn"]
missing = [k for k in need if not outs.get(k)]
if missing:
    sys.exit(f"stack outputs lack {missing}")
outs["StackName"] = stack
json.dump(outs, open(dst + ".tmp", "w"), indent=2, sort_keys=True)
import os; os.replace(dst + ".tmp", dst)
PY

out_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$STATE/$OUTPUTS" "$1"; }

# aws_json TARGET_PREFIX.ACTION JSON: one AWS JSON-protocol call. The emulator does not check
# signatures, so this stays dependency-free (no AWS CLI); it is for the emulator only.
aws_json() {
  local target="$1" body="$2" ctype="application/x-amz-json-1.0" code
  code="$(curl -s -o "$STATE/call.out" -w '%{http_code}' -X POST "$EP/" \
    -H "Content-Type: $ctype" -H "X-Amz-Target: $target" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/${3:-dynamodb}/aws4_request, SignedHeaders=host, Signature=0" \
    --data "$body")"
  if [[ "$code" != 200 ]]; then
    echo "$target -> HTTP $code: $(cat "$STATE/call.out")" >&2
    return 1
  fi
}

# --- 5. post-deploy workarounds --------------------------------------------------------------
table="$(out_of TableName)"
# MiniStack's CloudFormation ignores TimeToLiveSpecification (localstack/README.md, gaps).
if ! aws_json DynamoDB_20120810.UpdateTimeToLive \
  "{\"TableName\":\"$table\",\"TimeToLiveSpecification\":{\"Enabled\":true,\"AttributeName\":\"ttl\"}}" dynamodb; then
  grep -qi "already enabled" "$STATE/call.out" || die "UpdateTimeToLive on $table failed"
fi
aws_json DynamoDB_20120810.DescribeTimeToLive "{\"TableName\":\"$table\"}" dynamodb ||
  die "DescribeTimeToLive on $table failed"
grep -q '"ENABLED"' "$STATE/call.out" || die "TTL on $table is not ENABLED after UpdateTimeToLive: $(cat "$STATE/call.out")"
log "table $table: TTL on attribute ttl enabled"

for q in TaskDlqUrl ResultDlqUrl; do
  # The dlq function consumes these; a dead letter it fails on comes back after this too.
  aws_json AmazonSQS.SetQueueAttributes \
    "{\"QueueUrl\":\"$(out_of "$q")\",\"Attributes\":{\"VisibilityTimeout\":\"$VISIBILITY\"}}" sqs ||
    die "SetQueueAttributes on $(out_of "$q") failed"
done
for q in TaskQueueUrl ResultQueueUrl; do
  url="$(out_of "$q")"
  aws_json AmazonSQS.SetQueueAttributes \
    "{\"QueueUrl\":\"$url\",\"Attributes\":{\"VisibilityTimeout\":\"$VISIBILITY\"}}" sqs ||
    die "SetQueueAttributes on $url failed"
  aws_json AmazonSQS.GetQueueAttributes "{\"QueueUrl\":\"$url\",\"AttributeNames\":[\"All\"]}" sqs ||
    die "GetQueueAttributes on $url failed"
  python3 - "$STATE/call.out" "$VISIBILITY" "$url" <<'PY' || die "queue attributes of $url are not as expected"
import json, sys
attrs = json.load(open(sys.argv[1]))["Attributes"]
want, url = sys.argv[2], sys.argv[3]
if attrs.get("VisibilityTimeout") != want:
    sys.exit(f"{url}: VisibilityTimeout {attrs.get('VisibilityTimeout')} != {want}")
rp = json.loads(attrs.get("RedrivePolicy") or "{}")
if not rp.get("deadLetterTargetArn"):
    sys.exit(f"{url}: no RedrivePolicy; the template's dead-letter queue was dropped")
print(f"deploy.sh: {url.rsplit('/', 1)[-1]}: visibility {want} s, DLQ after {rp.get('maxReceiveCount')} receives")
PY
done

log "stack $STACK deployed; outputs in ${STATE#"$ROOT"/}/$OUTPUTS, API at $EP/_aws/execute-api/$(out_of ApiId)/"
