#!/usr/bin/env python3
"""Writes models/income/train-sample.jsonl: a seeded sample of the rows every variant was fitted on.

`fairgate evaluate` runs a membership-inference test (the loss-threshold attack of Yeom et al.,
2018): can a variant's loss tell the rows it was trained on from rows it never saw? It needs
training rows. The sample is drawn from the *fit* split of adult.data (the rows `full` and `fair`
were fitted on; `distilled` and `int8` saw all of adult.data, so these are training rows for them
too), never from the validation split that fitted the -eo thresholds. Same format as eval.jsonl.

    python3 models/train_sample.py --data ../shared/datasets/adult --out models/income

train.py calls write_train_sample() with the same split, so a full regeneration writes it too.
Deterministic (numpy default_rng(seed)): a rerun is byte-identical.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

import adult_encoding as ae

SAMPLE_ROWS = 4000          # balanced against as many held-out rows by fairgate evaluate
VAL_FRACTION = 0.15         # must equal train.py's (the split is recomputed from the seed)
FILE = "train-sample.jsonl"


def write_train_sample(train_recs, y_train, fit_idx: np.ndarray, out: str, seed: int) -> str:
    rng = np.random.default_rng(seed + 19)
    pick = np.sort(rng.choice(fit_idx, size=min(SAMPLE_ROWS, len(fit_idx)), replace=False))
    path = os.path.join(out, FILE)
    with open(path, "w", encoding="utf-8") as fh:
        for i in pick:
            r = train_recs[i]
            fh.write(json.dumps({"features": {k: r[k] for k in ae.RAW_COLUMNS},
                                 "group": {g: r[g] for g in ae.GROUP_ATTRIBUTES},
                                 "label": int(y_train[i])}, separators=(",", ":")) + "\n")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/datasets/adult")
    ap.add_argument("--out", default="models/income")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    train_recs, y_train = ae.read_adult(os.path.join(args.data, "adult.data"))
    # The split of train.py: the same permutation of the same rows.
    perm = np.random.default_rng(args.seed).permutation(len(train_recs))
    n_val = int(VAL_FRACTION * len(train_recs))
    fit_idx = np.sort(perm[n_val:])
    path = write_train_sample(train_recs, y_train, fit_idx, args.out, args.seed)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
