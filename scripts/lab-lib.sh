# Shared by the lab scripts (sourced, not run): removing labs whose owner process died, so a
# crashed test run never leaves namespaces behind for the next one.

# lab_gc_under STATE_ROOT SCRIPT: runs "SCRIPT down ID" for every lab recorded under
# STATE_ROOT whose owner pid (written at `up`) no longer exists.
lab_gc_under() {
  local root=$1 script=$2 dir owner
  for dir in "$root"/*/; do
    [[ -d $dir ]] || continue
    owner=$(cat "$dir/owner" 2>/dev/null || true)
    [[ $owner =~ ^[0-9]+$ ]] || continue
    kill -0 "$owner" 2>/dev/null && continue
    echo "$(basename "$script"): removing lab $(basename "$dir") (owner $owner is gone)" >&2
    "$script" down "$(basename "$dir")"
  done
}
