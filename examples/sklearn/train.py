"""Trains scikit-learn models on fairgate's encoding of a table and exports each with skl2onnx
the way fairgate reads it: a float32 input [N, F] named `input`, no ZipMap (`zipmap=False`, so
the probabilities are a float32 [N, 2] tensor whose column 1 is the positive class), and a pinned
graph name so the same model gives the same bytes (and sha256) on every export.

  python examples/sklearn/train.py --data train.csv --label approved --numeric income,debt,years \
      --categorical region,purpose --log1p income --out my-models/credit
"""
import argparse
import json
import os

# One BLAS thread, set before numpy loads: with several, OpenBLAS may split a matrix product
# differently from one run to the next on a loaded machine, the MLP's weights differ in their
# last bits and a second export of the same model no longer has the same bytes (and sha256).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from skl2onnx import to_onnx  # noqa: E402
from skl2onnx.common.data_types import FloatTensorType  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from fairgate_encoding import Encoding, read_table  # noqa: E402


def save_pinned(onx, path, name):
    """skl2onnx names each graph with a random id: pin it (and the producer) so hashes are stable."""
    onx.graph.name = name
    onx.producer_name = "skl2onnx"
    onx.doc_string = ""
    onnx.checker.check_model(onx)
    onnx.save(onx, path)


def export(model, width, path, name):
    onx = to_onnx(model, initial_types=[("input", FloatTensorType([None, width]))],
                  options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    save_pinned(onx, path, name)


def split(s):
    return [x for x in (s or "").split(",") if x]


p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--label", required=True)
p.add_argument("--positive", default="1")
p.add_argument("--numeric", default="")
p.add_argument("--categorical", default="")
p.add_argument("--log1p", default="")
p.add_argument("--out", required=True)
p.add_argument("--scores", help="also write scikit-learn's P(positive) of each --eval row to this JSON file")
p.add_argument("--eval")
a = p.parse_args()

rows = read_table(a.data)
enc = Encoding(rows, split(a.numeric), split(a.categorical), split(a.log1p))
X = enc.transform(rows)
y = np.array([str(r[a.label]).strip() == a.positive for r in rows], dtype=int)
os.makedirs(a.out, exist_ok=True)
models = {
    "logreg": LogisticRegression(max_iter=2000),
    "mlp": MLPClassifier(hidden_layer_sizes=(16,), alpha=1e-3, max_iter=400, random_state=0),
}
for name, model in models.items():
    model.fit(X, y)
    export(model, enc.width, os.path.join(a.out, f"{name}.onnx"), name)
    print(f"{name}: train accuracy {model.score(X, y):.4f} -> {os.path.join(a.out, name + '.onnx')}")
if a.scores:
    ev = enc.transform(read_table(a.eval))
    with open(a.scores, "w") as f:
        json.dump({name: m.predict_proba(ev)[:, 1].tolist() for name, m in models.items()}, f)
