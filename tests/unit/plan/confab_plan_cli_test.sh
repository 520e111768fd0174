#!/usr/bin/env bash
# confab plan on the committed bench results: three sizes with diagrams; bad input exits non-zero
# with a message naming the problem.
set -euo pipefail
confab=$1 results=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$("$confab" plan --results "$results")
for want in "### 10.0 k users" "### 1.0 M users" "### 100.0 M users" '```mermaid' "Measured figures"; do
  grep -qF "$want" <<<"$out" || fail "no '$want' in: $out"
done
"$confab" plan --results "$results" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["plans"]) == 3'
"$confab" plan --results "$results" --validate 3 | grep -q "predicted:" || fail "no validation prediction"
expect_error() {  # expect_error CODE TEXT ARGS...
  local code=$1 text=$2; shift 2
  set +e; err=$("$confab" "$@" 2>&1 >/dev/null); rc=$?; set -e
  [[ $rc == "$code" ]] || fail "$* exited $rc, not $code ($err)"
  grep -qF -- "$text" <<<"$err" || fail "$*: no '$text' in '$err'"
}
expect_error 1 "--users: 'many' is not a number" plan --results "$results" --users 10,many
expect_error 1 "sum to 1" plan --results "$results" --direct-share 0.9
expect_error 1 "missing /nonexistent/machine.json" plan --results /nonexistent
expect_error 2 "unrecognised option" plan --no-such-flag
expect_error 2 "usage: confab plan" frobnicate
echo ok
