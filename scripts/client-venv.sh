#!/usr/bin/env bash
# Creates .venv-clients (ignored) with the pinned real OIP clients (tritonclient, kserve) that
# test/clients/ drives against a real gateway. Reuses a venv whose requirements are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
req=test/clients/requirements.txt
venv=.venv-clients
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "client venv up to date ($venv)"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
echo "client venv ready ($venv)"
