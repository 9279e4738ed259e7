"""UCI Adult parsing + the feature encoding that the gateway reproduces in TypeScript.

The encoding is defined entirely by the `features` list of models/income/model.yaml:

* numeric:      v = float32(((log1p(x) if log1p else x) - mean) / std)   (float64 math, then cast)
                missing / unparseable / non-finite x -> 0.0
* categorical:  one-hot over `vocabulary` (sorted, from the train split, "?" excluded)
                plus one trailing "unknown" column (index len(vocabulary)) for anything else
                (including "?", missing, non-string). Strings are trimmed; matching is case-sensitive.

Columns are laid out in manifest order; F = sum of per-feature widths (1 for numeric,
len(vocabulary)+1 for categorical).
"""
from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Sequence

import numpy as np

# Raw column order of adult.data / adult.test (see adult.names), in snake_case.
RAW_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country",
]
NUMERIC_RAW = {"age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"}

# Model inputs, numeric first then categorical. fnlwgt (a census sampling weight) is dropped.
NUMERIC_FEATURES = [
    ("age", False),
    ("education_num", False),
    ("capital_gain", True),   # (name, log1p)
    ("capital_loss", True),
    ("hours_per_week", False),
]
CATEGORICAL_FEATURES = [
    "workclass", "education", "marital_status", "occupation",
    "relationship", "race", "sex", "native_country",
]
GROUP_ATTRIBUTES = ["sex", "race"]


def read_adult(path: str) -> tuple[List[Dict[str, Any]], np.ndarray]:
    """Return (records, labels). Records keep "?" as "?"; numbers are ints."""
    records: List[Dict[str, Any]] = []
    labels: List[int] = []
    with open(path, "r", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("|"):
                continue  # blank lines and the "|1x3 Cross validator" comment of adult.test
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != len(RAW_COLUMNS) + 1:
                raise ValueError(f"{path}: unexpected line {line!r}")
            rec: Dict[str, Any] = {}
            for key, val in zip(RAW_COLUMNS, parts[:-1]):
                rec[key] = int(val) if key in NUMERIC_RAW and val != "?" else val
            lab = parts[-1].rstrip(".")
            if lab not in (">50K", "<=50K"):
                raise ValueError(f"{path}: bad label {parts[-1]!r}")
            records.append(rec)
            labels.append(1 if lab == ">50K" else 0)
    return records, np.asarray(labels, dtype=np.int64)


def _to_float(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        v = float(x)
    elif isinstance(x, str):
        try:
            v = float(x.strip())
        except ValueError:
            return None
    else:
        return None
    return v if math.isfinite(v) else None


def _num_transform(v: float, log1p: bool) -> float | None:
    if log1p:
        if v <= -1.0:
            return None
        v = math.log1p(v)
    return v if math.isfinite(v) else None


def fit_features(records: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Compute the manifest `features` list from the TRAIN records."""
    feats: List[Dict[str, Any]] = []
    for name, log1p in NUMERIC_FEATURES:
        vals = []
        for r in records:
            v = _to_float(r.get(name))
            if v is not None:
                v = _num_transform(v, log1p)
            if v is not None:
                vals.append(v)
        arr = np.asarray(vals, dtype=np.float64)
        mean = float(arr.mean())
        std = float(arr.std())  # population std (ddof=0)
        if not std > 0:
            std = 1.0
        f: Dict[str, Any] = {"name": name, "kind": "numeric"}
        if log1p:
            f["log1p"] = True
        f["mean"] = mean
        f["std"] = std
        feats.append(f)
    for name in CATEGORICAL_FEATURES:
        vocab = sorted({str(r.get(name)).strip() for r in records
                        if isinstance(r.get(name), str) and r.get(name).strip() not in ("", "?")})
        feats.append({"name": name, "kind": "categorical", "vocabulary": vocab})
    return feats


def input_width(features: Sequence[Dict[str, Any]]) -> int:
    return sum(1 if f["kind"] == "numeric" else len(f["vocabulary"]) + 1 for f in features)


def encode(records: Sequence[Dict[str, Any]], features: Sequence[Dict[str, Any]]) -> np.ndarray:
    """Encode records to a float32 [N, F] matrix, exactly as the gateway does."""
    width = input_width(features)
    out = np.zeros((len(records), width), dtype=np.float32)
    lookups = [({v: i for i, v in enumerate(f["vocabulary"])} if f["kind"] == "categorical" else None)
               for f in features]
    for i, r in enumerate(records):
        col = 0
        for f, lut in zip(features, lookups):
            raw = r.get(f["name"])
            if f["kind"] == "numeric":
                v = _to_float(raw)
                if v is not None:
                    v = _num_transform(v, bool(f.get("log1p", False)))
                out[i, col] = 0.0 if v is None else np.float32((v - f["mean"]) / f["std"])
                col += 1
            else:
                key = raw.strip() if isinstance(raw, str) else None
                idx = lut.get(key, len(lut)) if key is not None else len(lut)
                out[i, col + idx] = 1.0
                col += len(lut) + 1
    return out


def groups_of(records: Sequence[Dict[str, Any]]) -> Dict[str, List[str]]:
    """Sorted group values of the sensitive attributes (from the train split)."""
    return {g: sorted({r[g] for r in records if r[g] != "?"}) for g in GROUP_ATTRIBUTES}
