#!/bin/sh
# `npm run audit`: fails on a high or critical advisory in the production dependencies (the lockfile's).
# A registry that does not serve npm's audit endpoint (the mirror this project is built against answers
# 405) cannot be audited: that is said in one line, and the run goes on, rather than failing every CI
# run for something the code cannot change or passing as if the audit had found nothing.
set -u
cd "$(dirname "$0")/.."
out=$(npm audit --omit=dev --audit-level=high 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
  printf '%s\n' "$out" | tail -n 1
  exit 0
fi
case "$out" in
  *"audit endpoint returned an error"* | *"405 Method Not Allowed"* | *ENOTFOUND* | *ECONNREFUSED*)
    echo "npm audit: NOT RUN, the registry ($(npm config get registry)) does not serve the audit endpoint:"
    printf '%s\n' "$out" | grep -m 1 -E 'npm (warn|error) audit' || true
    exit 0
    ;;
esac
printf '%s\n' "$out"
exit "$status"
