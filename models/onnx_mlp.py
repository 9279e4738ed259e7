"""Build plain ONNX graphs (MatMul + Add + Relu ..., final Sigmoid) from dense-layer weights."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # accepted by onnxruntime 1.23 (and much older releases)


def build_mlp(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], width: int,
              graph_name: str, doc: str = "") -> onnx.ModelProto:
    """Hidden layers use ReLU; the last layer must have one output unit (a logit) that goes
    through Sigmoid. Input `input` [N, width] fp32 -> output `probability` [N, 1] fp32."""
    assert len(weights) == len(biases) and weights[-1].shape[1] == 1
    inits, nodes = [], []
    cur = "input"
    for i, (w, b) in enumerate(zip(weights, biases)):
        wn, bn = f"W{i}", f"B{i}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(w, dtype=np.float32), wn))
        inits.append(numpy_helper.from_array(np.ascontiguousarray(b, dtype=np.float32), bn))
        mm, add = f"mm{i}", f"z{i}"
        nodes.append(helper.make_node("MatMul", [cur, wn], [mm], name=f"matmul{i}"))
        nodes.append(helper.make_node("Add", [mm, bn], [add], name=f"add{i}"))
        if i < len(weights) - 1:
            act = f"h{i}"
            nodes.append(helper.make_node("Relu", [add], [act], name=f"relu{i}"))
            cur = act
        else:
            cur = add
    nodes.append(helper.make_node("Sigmoid", [cur], ["probability"], name="sigmoid"))
    graph = helper.make_graph(
        nodes, graph_name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", width])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="fairgate-models", doc_string=doc)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def dense_params(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> int:
    return int(sum(w.size + b.size for w, b in zip(weights, biases)))


def dense_flops(weights: Sequence[np.ndarray]) -> int:
    """2 * multiply-adds of the dense layers, per row."""
    return int(sum(2 * w.shape[0] * w.shape[1] for w in weights))
