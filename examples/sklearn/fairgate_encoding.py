"""fairgate's feature encoding (docs/models.md#feature-encoding), for training a model on exactly
the rows the gateway will feed it. `fairgate init` computes the same vocabularies, means and
standard deviations from the same table and writes them to model.yaml.

  numeric      (x, or log1p(x)) - mean) / std; mean and population std (ddof 0) of the present
               values; a missing or unparseable value trains as 0.0 (the mean)
  categorical  one-hot over the sorted distinct values ("" and "?" excluded), plus a trailing
               unknown column for anything else
"""
import csv
import json
import math

import numpy as np

MISSING = ("", "?")


def read_table(path):
    """Rows of a CSV (header line) or JSONL file, as dicts."""
    with open(path, newline="") as f:
        if path.endswith(".jsonl"):
            return [json.loads(line) for line in f if line.strip()]
        return list(csv.DictReader(f))


def number(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        x = float(v)
    elif isinstance(v, str) and v.strip() not in MISSING:
        try:
            x = float(v)
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


class Encoding:
    def __init__(self, rows, numeric, categorical, log1p=()):
        self.features = []
        for name in numeric:
            xs = [number(r.get(name)) for r in rows]
            xs = np.array([(math.log1p(x) if name in log1p else x) for x in xs if x is not None], dtype=np.float64)
            std = float(xs.std()) if len(xs) else 1.0
            self.features.append({"name": name, "kind": "numeric", "log1p": name in log1p,
                                  "mean": float(xs.mean()) if len(xs) else 0.0, "std": std if std > 0 else 1.0})
        for name in categorical:
            vocab = sorted({str(r.get(name)).strip() for r in rows if r.get(name) is not None and str(r.get(name)).strip() not in MISSING})
            self.features.append({"name": name, "kind": "categorical", "vocabulary": vocab})
        self.width = sum(1 if f["kind"] == "numeric" else len(f["vocabulary"]) + 1 for f in self.features)

    def transform(self, rows):
        out = np.zeros((len(rows), self.width), dtype=np.float32)
        for i, r in enumerate(rows):
            col = 0
            for f in self.features:
                v = r.get(f["name"])
                if f["kind"] == "numeric":
                    x = number(v)
                    if x is not None and f["log1p"]:
                        x = math.log1p(x) if x > -1 else None
                    out[i, col] = 0.0 if x is None else np.float32((x - f["mean"]) / f["std"])
                    col += 1
                else:
                    vocab = f["vocabulary"]
                    j = vocab.index(v.strip()) if isinstance(v, str) and v.strip() in vocab else len(vocab)
                    out[i, col + j] = 1.0
                    col += len(vocab) + 1
        return out
