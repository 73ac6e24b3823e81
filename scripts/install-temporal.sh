#!/usr/bin/env bash
# Installs the Temporal CLI, whose dev server (`temporal server start-dev`) the distributed
# scan's tests and local use run, by building it from the Go module proxy: no server binary is
# ever downloaded. Idempotent: a CLI already built for this version is kept.
#
#   scripts/install-temporal.sh          build if needed; print the binary's path on stdout
#
# v1.5.1 is the last tag `go install` can build: later tags carry a `replace` directive in
# their go.mod, which `go install pkg@version` refuses.
# Environment: FERROSCAN_TEMPORAL_DIR (where the binary goes; default
# $HOME/.cache/ferroscan/temporal/<version>), GOFLAGS/GOPROXY as Go reads them.
set -euo pipefail

version=v1.5.1
module=github.com/temporalio/cli
dir=${FERROSCAN_TEMPORAL_DIR:-${HOME:-/root}/.cache/ferroscan/temporal/$version}
bin=$dir/temporal

die() { echo "install-temporal.sh: $*" >&2; exit 1; }

# The module version a binary was built from (go install leaves the CLI's own version at 0.0.0-DEV).
built_version() { go version -m "$1" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }'; }

command -v go >/dev/null || die "go not found on PATH (the Temporal CLI builds from source with Go)"
if [[ -x $bin && $(built_version "$bin") == "$version" ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dir"
start=$(date +%s)
echo "install-temporal.sh: building $module/cmd/temporal@$version with $(go version | awk '{print $3}') (a few minutes)" >&2
GOBIN=$dir go install "$module/cmd/temporal@$version" >&2
[[ $(built_version "$bin") == "$version" ]] || die "go install left no temporal $version in $dir"
echo "install-temporal.sh: built in $(($(date +%s) - start)) s: $bin" >&2
echo "$bin"
