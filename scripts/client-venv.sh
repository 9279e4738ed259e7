#!/usr/bin/env bash
# Creates .venv-clients (ignored) with the pinned real OIP clients (tritonclient, kserve) that
# test/clients/ drives against a real gateway. Reuses a venv whose requirements are unchanged.
exec "$(dirname "$0")/python-venv.sh" test/clients/requirements.txt .venv-clients
