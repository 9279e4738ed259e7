#!/usr/bin/env python3
"""Single-thread CPU latency of the bundled `income` ONNX variants.

    python3 models/bench_latency.py [--model-dir models/income] [--update-card]

For each variant and batch size (1 and 32) it runs an onnxruntime InferenceSession with
intra_op_num_threads=1 and inter_op_num_threads=1 on the first rows of eval.jsonl, warms up,
then times `repeats` blocks of many back-to-back runs and reports the MEDIAN over blocks of the
mean time per run. Results go to <model-dir>/latency.json; --update-card re-renders MODEL_CARD.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

BATCHES = (1, 32)


def _session(path: str) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])


def _time_block(sess, feeds, iters: int) -> float:
    run = sess.run
    t0 = time.perf_counter()
    for _ in range(iters):
        run(None, feeds)
    return (time.perf_counter() - t0) / iters


def bench(model_dir: str, variants, X: np.ndarray, repeats: int = 7, block_s: float = 0.25) -> dict:
    out = {"threads": 1, "repeats": repeats, "onnxruntime": ort.__version__,
           "cpu": platform.processor() or platform.machine(), "variants": {}}
    for v in variants:
        sess = _session(os.path.join(model_dir, v))
        res = {}
        for b in BATCHES:
            feeds = {"input": np.ascontiguousarray(X[:b], dtype=np.float32)}
            for _ in range(50):
                sess.run(None, feeds)
            one = _time_block(sess, feeds, 20)
            iters = max(20, int(block_s / max(one, 1e-7)))
            times = [_time_block(sess, feeds, iters) for _ in range(repeats)]
            med = statistics.median(times)
            res[str(b)] = {"ms_per_batch": med * 1e3, "us_per_row": med * 1e6 / b, "iters": iters}
        out["variants"][os.path.splitext(v)[0]] = res
    vs = out["variants"]
    if "full" in vs and "distilled" in vs:
        out["distilled_speedup_per_row_b32"] = vs["full"]["32"]["us_per_row"] / vs["distilled"]["32"]["us_per_row"]
        out["distilled_speedup_per_row_b1"] = vs["full"]["1"]["us_per_row"] / vs["distilled"]["1"]["us_per_row"]
    return out


def check(lat: dict) -> list[str]:
    fails = []
    sp = lat.get("distilled_speedup_per_row_b32", 0.0)
    if sp < 20.0:
        fails.append(f"distilled only {sp:.2f}x cheaper per row than full @ batch 32 (< 20x)")
    return fails


def format_table(lat: dict) -> str:
    lines = ["| variant | batch 1 (ms/batch) | batch 32 (ms/batch) | batch 32 (µs/row) |",
             "|---|---:|---:|---:|"]
    for name, r in lat["variants"].items():
        lines.append(f"| {name} | {r['1']['ms_per_batch']:.4f} | {r['32']['ms_per_batch']:.4f} | "
                     f"{r['32']['us_per_row']:.2f} |")
    return "\n".join(lines)


def load_eval_matrix(model_dir: str, n: int = 32) -> np.ndarray:
    import yaml  # only needed when run standalone
    import adult_encoding as ae
    with open(os.path.join(model_dir, "model.yaml"), encoding="utf-8") as fh:
        manifest = yaml.safe_load(fh)
    recs = []
    with open(os.path.join(model_dir, "eval.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            recs.append(json.loads(line)["features"])
            if len(recs) >= n:
                break
    return ae.encode(recs, manifest["features"]), manifest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(HERE, "income"))
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--update-card", action="store_true", help="re-render MODEL_CARD.md with these numbers")
    args = ap.parse_args()
    X, manifest = load_eval_matrix(args.model_dir)
    variants = list(dict.fromkeys(v["file"] for v in manifest["variants"]))  # variants sharing a file are one session
    lat = bench(args.model_dir, variants, X, repeats=args.repeats)
    with open(os.path.join(args.model_dir, "latency.json"), "w", encoding="utf-8") as fh:
        json.dump(lat, fh, indent=2)
        fh.write("\n")
    print(format_table(lat))
    print(f"distilled vs full per-row speed-up @ batch 32: {lat['distilled_speedup_per_row_b32']:.1f}x")
    if args.update_card:
        import model_card
        model_card.write_card(args.model_dir, manifest, lat)
        print("updated", os.path.join(args.model_dir, "MODEL_CARD.md"))
    fails = check(lat)
    for f in fails:
        print("LATENCY CHECK FAILED:", f, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
