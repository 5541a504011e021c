#!/usr/bin/env bash
# zz_log_checks.sh — runs last (the harness runs the checks in name order):
# after every SQL file and every other check has run against the cluster,
# its server log ($VTJ_LOG, exported by tools/test through lib.sh) must hold
# no hetu (product.md §8: with vtj.log_redact on, not even from PostgreSQL's
# own messages and statements) and no credential. Any hetu-shaped token
# counts: six digits, a century sign, any three-digit individual number, a
# check character. Fails when VTJ_LOG is unset or unreadable. Prints TAP;
# offending lines are shown with the hetu masked.

set -u
N=0
FAILED=0
ok()     { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

HETU_RE='[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]'
LOG=${VTJ_LOG:-}
if [ -z "$LOG" ]; then
  not_ok "VTJ_LOG names the cluster's server log" "VTJ_LOG is not set: the harness must export it (tools/test sources test/harness/lib.sh)"
  echo "1..$N"; exit 1
fi
if [ ! -r "$LOG" ]; then
  not_ok "the server log $LOG is readable" "cannot read $LOG"
  echo "1..$N"; exit 1
fi
lines=$(wc -l <"$LOG")
ok "the server log is readable ($lines lines)"
if [ "$lines" -gt 0 ]; then ok "the server log is not empty"; else not_ok "the server log is not empty" "an empty log proves nothing"; fi

show() {   # show REGEX: offending lines, the match masked
  grep -nE -- "$1" "$LOG" | sed -E "s/$HETU_RE/<hetu>/g; s/$1/<secret>/g" | cut -c1-220 | head -10 | sed 's/^/#   /'
}
hits=$(grep -cE -- "$HETU_RE" "$LOG")
if [ "$hits" = 0 ]; then ok "no hetu-shaped token anywhere in the server log"
else not_ok "no hetu-shaped token anywhere in the server log" "$hits lines:"; show "$HETU_RE"; fi

# the credentials of the harness (vtj.password, and the Basic header built from it)
for secret in vtjpass dnRqdXNlcjp2dGpwYXNz 'Authorization: Basic'; do
  hits=$(grep -cF -- "$secret" "$LOG")
  if [ "$hits" = 0 ]; then ok "no '${secret:0:6}…' (a credential) in the server log"
  else not_ok "no '${secret:0:6}…' (a credential) in the server log" "$hits lines"; show "$secret"; fi
done

echo "1..$N"
[ "$FAILED" -eq 0 ]
