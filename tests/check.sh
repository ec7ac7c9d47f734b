# shellcheck shell=sh
# The checks the shell tests share. Source it after setting $tmp (a scratch folder):
#   . "$ROOT/tests/check.sh"
# Every check counts into $passed / $failed and prints "FAIL: ..." with what it saw;
# `finish [NAME]` prints the totals and returns non-zero if anything failed.
passed=0 failed=0

ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }

# run EXPECTED_EXIT CMD... : runs CMD (stdin empty), stdout in $tmp/out, stderr in $tmp/err
run() {
  want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else
    ko "exit $got, want $want: $*"; sed 's/^/  stderr: /' "$tmp/err" | tail -n 40; fi
}

# expect FILE REGEX : $tmp/FILE matches (grep -E)
expect() {
  if grep -E -q -- "$2" "$tmp/$1"; then ok; else ko "$1 does not match /$2/:"; sed 's/^/  /' "$tmp/$1"; fi
}

# lines FILE N : $tmp/FILE has N lines
lines() {
  n=$(wc -l <"$tmp/$1")
  if [ "$n" -eq "$2" ]; then ok; else ko "$1 has $n lines, want $2"; sed 's/^/  /' "$tmp/$1"; fi
}

# same FILE TEXT : $tmp/FILE is exactly TEXT (trailing newlines aside)
same() {
  if [ "$(cat "$tmp/$1")" = "$2" ]; then ok; else
    ko "$1 is:"; sed 's/^/  /' "$tmp/$1"; echo "  want: $2"; fi
}

# py FILE 'python assertions on r' : r is $tmp/FILE parsed as JSON
py() {
  if python3 -c "import json,sys; r=json.load(open(sys.argv[1])); $2" "$tmp/$1" 2>"$tmp/pyerr"; then ok
  else ko "$1: $2"; sed 's/^/  /' "$tmp/pyerr" "$tmp/$1"; fi
}

# jq_ FILE 'python expression on r' : prints it
jq_() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$tmp/$1"; }

# finish [NAME] : the totals; the status of the test
finish() {
  echo "${1:+$1: }$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
