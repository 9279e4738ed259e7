#!/usr/bin/env bash
# Creates a Python venv (ignored by git) from a pinned requirements file, for the tests that drive
# real Python tools: scripts/python-venv.sh REQUIREMENTS VENV. A venv whose requirements are
# unchanged is reused (a sha256 stamp), so CI pays the install once per change.
set -euo pipefail
cd "$(dirname "$0")/.."
req=$1
venv=$2
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "venv up to date ($venv)"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
echo "venv ready ($venv)"
