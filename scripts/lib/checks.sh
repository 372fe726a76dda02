# Sourced by the scripts that count their own checks (test-c.sh, test-dist.sh, test-dist-cross.sh):
# the counters and `record`, the closing summary, and the install of missing Debian packages.

passed=0
failed=0
failures=()

# record NAME STATUS: one check, passed when STATUS is 0.
record() {
  if [[ $2 -eq 0 ]]; then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    failures+=("$1")
    echo "FAIL $1"
  fi
}

# summary: names what failed, prints the last line "N passed, M failed"; its status is the verdict.
summary() {
  ((${#failures[@]})) && echo "failed: ${failures[*]}"
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 && ${#failures[@]} -eq 0 ]]
}

# apt_install PACKAGE...: installs the packages with apt-get (through sudo when not root); nothing
# when none is named.
apt_install() {
  (($#)) || return 0
  echo "== installing $*"
  local sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "$@" >/dev/null
}
