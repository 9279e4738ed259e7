"""Deterministic per-group decision thresholds (post-processing for equalized odds).

Fairlearn's ThresholdOptimizer gives randomized thresholds (a row near a threshold is decided by
a coin flip), which a gateway cannot reproduce per request or audit afterwards. Instead: on the
validation split, every pair of thresholds on a fixed grid (0.05 .. 0.95 by 0.01) is tried, pairs
whose equalized-odds gap (the larger of the TPR and FPR gaps) exceeds `odds_bound` or whose
selection-rate gap exceeds `dp_bound` are dropped, and the most accurate remaining pair wins
(ties: the smaller selection-rate gap, then the lower thresholds). The same inputs give the same
thresholds. The selection-rate bound keeps the variant inside a demographic-parity rule (the
shipped policy's) while the error rates are equalized."""
from __future__ import annotations

import numpy as np


def fit_group_thresholds(p: np.ndarray, y: np.ndarray, groups: np.ndarray, values: list[str],
                         grid: list[float], dp_bound: float, odds_bound: float) -> dict[str, float]:
    assert len(values) == 2, "two groups: every pair of thresholds is tried"
    t = np.asarray(grid, dtype=np.float64)
    sel, tpr, fpr, correct, n = [], [], [], [], []
    for v in values:
        m = groups == v
        pv, yv = p[m].astype(np.float64)[None, :], y[m][None, :]
        d = pv >= t[:, None]
        sel.append(d.mean(axis=1))
        tpr.append(d[:, yv[0] == 1].mean(axis=1))
        fpr.append(d[:, yv[0] == 0].mean(axis=1))
        correct.append((d == (yv == 1)).sum(axis=1))
        n.append(int(m.sum()))
    gap = np.abs(sel[0][:, None] - sel[1][None, :])
    acc = (correct[0][:, None] + correct[1][None, :]) / (n[0] + n[1])
    odds = np.maximum(np.abs(tpr[0][:, None] - tpr[1][None, :]), np.abs(fpr[0][:, None] - fpr[1][None, :]))
    ok = (gap <= dp_bound) & (odds <= odds_bound)
    if not ok.any():
        raise ValueError(f"no threshold pair within gaps of {dp_bound} (DPD) / {odds_bound} (EOD)")
    best = None
    for i in range(len(t)):
        for j in range(len(t)):
            if not ok[i, j]:
                continue
            key = (-acc[i, j], gap[i, j], t[i], t[j])
            if best is None or key < best[0]:
                best = (key, i, j)
    _, i, j = best
    return {values[0]: float(t[i]), values[1]: float(t[j])}


def decide(p: np.ndarray, rule: dict, records) -> np.ndarray:
    """The decisions a variant's rule gives, as the gateway applies it (score >= threshold)."""
    if "threshold" in rule:
        return (p >= rule["threshold"]).astype(np.int64)
    bg = rule["by_group"]
    thr = np.asarray([bg["thresholds"].get(r.get(bg["attribute"]), bg["default"]) for r in records], dtype=np.float64)
    return (p.astype(np.float64) >= thr).astype(np.int64)


def thresholds_of(rule: dict, records) -> np.ndarray:
    if "threshold" in rule:
        return np.full(len(records), rule["threshold"], dtype=np.float64)
    bg = rule["by_group"]
    return np.asarray([bg["thresholds"].get(r.get(bg["attribute"]), bg["default"]) for r in records], dtype=np.float64)
