"""Deterministic writer for models/income/model.yaml in the exact layout the gateway documents.

Floats are written with Python's shortest round-trip repr (full float64 precision), always
containing a '.' so that YAML 1.1 and 1.2 parsers both read them as floats.
"""
from __future__ import annotations

import json
import re
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_.()\-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf"}


def scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        s = repr(v)
        if "e" in s and "." not in s.split("e")[0]:
            m, e = s.split("e")
            s = f"{m}.0e{e}"
        elif "." not in s and "e" not in s:
            s += ".0"
        return s
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED:
        return s
    return json.dumps(s)


def flow(v: Any) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{scalar(k)}: {flow(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    return scalar(v)


def dump_manifest(m: dict) -> str:
    L = []
    L.append(f"name: {scalar(m['name'])}")
    L.append(f"description: {m['description']}")
    L.append(f"input: {flow(m['input'])}")
    L.append(f"output: {flow(m['output'])}")
    L.append(f"threshold: {scalar(m['threshold'])}")
    L.append(f"label: {flow(m['label'])}")
    if "train_sample" in m:
        L.append(f"train_sample: {scalar(m['train_sample'])}      # training rows for fairgate evaluate's membership test")
    L.append("features:")
    for f in m["features"]:
        L.append(f"  - {flow(f)}")
    L.append("groups:            # the sensitive attributes and their values (from the train split, sorted)")
    for g, vals in m["groups"].items():
        L.append(f"  {scalar(g)}: {flow(vals)}")
    L.append("variants:          # in order of preference; a variant = a model file + a decision rule")
    for v in m["variants"]:
        L.append(f"  - name: {scalar(v['name'])}")
        L.append(f"    file: {scalar(v['file'])}")
        L.append(f"    sha256: {json.dumps(v['sha256'])}")
        L.append(f"    decision: {flow(v['decision'])}")
        L.append("    metrics:")
        L.append(f"      accuracy: {scalar(v['metrics']['accuracy'])}")
        L.append(f"      auc: {scalar(v['metrics']['auc'])}")
        L.append(f"      cost_us_per_row_b32: {scalar(v['metrics']['cost_us_per_row_b32'])}      # onnxruntime, 1 thread (latency.json)")
        L.append("      groups:")
        for g, vals in v["metrics"]["groups"].items():
            L.append(f"        {scalar(g)}:")
            for name, st in vals.items():
                L.append(f"          {scalar(name)}: {flow(st)}")
    b = m["baseline"]
    L.append("baseline:          # drift baseline, computed from the FULL variant on the test split")
    L.append(f"  variant: {scalar(b['variant'])}")
    L.append(f"  bin_edges: {flow(b['bin_edges'])}")
    L.append("  groups:")
    for g, vals in b["groups"].items():
        L.append(f"    {scalar(g)}:")
        for name, st in vals.items():
            L.append(f"      {scalar(name)}: {flow(st)}")
    return "\n".join(L) + "\n"
