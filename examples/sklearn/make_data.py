"""A synthetic credit data set with a group attribute, for the recipe in docs/models.md and the
test suite's own model: writes train.csv and eval.csv (same columns) into --out.

Columns: income, debt, years (numeric), region, purpose (categorical), sex (the group attribute,
never a feature), approved (the label, 0/1). The label depends on the features and, through
income, indirectly on sex, so the two groups get different selection rates.
"""
import argparse
import csv
import os

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--rows", type=int, default=4000)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
rng = np.random.default_rng(a.seed)
os.makedirs(a.out, exist_ok=True)


def write(path, n):
    sex = rng.choice(["Female", "Male"], size=n, p=[0.45, 0.55])
    income = np.round(rng.lognormal(10.4 + 0.25 * (sex == "Male"), 0.5, size=n), 2)
    debt = np.round(rng.gamma(2.0, 4000.0, size=n), 2)
    years = rng.integers(0, 40, size=n)
    region = rng.choice(["north", "south", "east", "west"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    purpose = rng.choice(["car", "home", "study", "other"], size=n)
    z = 1.8 * (np.log(income) - 10.5) - 0.00006 * debt + 0.03 * years + 0.4 * (region == "north") - 0.5 * (purpose == "other")
    approved = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["income", "debt", "years", "region", "purpose", "sex", "approved"])
        for row in zip(income, debt, years, region, purpose, sex, approved):
            w.writerow(row)


write(os.path.join(a.out, "train.csv"), a.rows)
write(os.path.join(a.out, "eval.csv"), a.rows // 2)
