#!/bin/sh
# The MLServer peer's virtualenv (loadtest/peers/mlserver/.venv): MLServer from PyPI, the
# onnxruntime its runtime.py uses, and uvloop < 0.21 (MLServer 1.7's inference workers call
# asyncio.get_event_loop() in a fresh process, which uvloop 0.21+ refuses).
set -e
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install -q mlserver onnxruntime numpy "uvloop<0.21"
