"""ONNX graphs of the non-MLP members of the income family, with pinned names and doc strings so
that a rerun writes byte-identical files."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from onnx_mlp import IR_VERSION, OPSET

ML_OPSET = 1  # ai.onnx.ml TreeEnsembleClassifier as onnxmltools emits it


def _pin(model: onnx.ModelProto, graph_name: str, doc: str) -> onnx.ModelProto:
    model.producer_name = "fairgate-models"
    model.producer_version = ""
    model.domain = ""
    model.model_version = 0
    model.doc_string = doc
    model.graph.name = graph_name
    model.graph.doc_string = ""
    del model.metadata_props[:]
    for n in model.graph.node:
        n.doc_string = ""
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def lightgbm_graph(booster_model, width: int, graph_name: str, doc: str) -> onnx.ModelProto:
    """LightGBM classifier -> `input` [N, width] fp32 -> `probability` [N, 1] fp32 (the
    positive class column of onnxmltools' probabilities, sliced out; the label output dropped)."""
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType
    m = convert_lightgbm(booster_model, name=graph_name, initial_types=[("input", FloatTensorType([None, width]))],
                         zipmap=False, target_opset=15)
    g = m.graph
    probs = [o.name for o in g.output if o.name != "label"][0]
    g.initializer.extend([numpy_helper.from_array(np.array([1], dtype=np.int64), "pos_start"),
                          numpy_helper.from_array(np.array([2], dtype=np.int64), "pos_end"),
                          numpy_helper.from_array(np.array([1], dtype=np.int64), "pos_axis")])
    g.node.append(helper.make_node("Slice", [probs, "pos_start", "pos_end", "pos_axis"], ["probability"], name="positive_class"))
    # Only the probability leaves the graph; nodes that computed the label are pruned.
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1]))
    needed, keep = {"probability"}, []
    for n in reversed(list(g.node)):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed.update(n.input)
    del g.node[:]
    g.node.extend(reversed(keep))
    used = set(needed)
    inits = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)
    # g.input keeps only "input"
    ops = {n.domain for n in g.node}
    del m.opset_import[:]
    m.opset_import.extend([helper.make_opsetid("", 15)] + ([helper.make_opsetid("ai.onnx.ml", ML_OPSET)] if "ai.onnx.ml" in ops else []))
    return _pin(m, graph_name, doc)


def mixture_graph(coefs: np.ndarray, intercepts: np.ndarray, weights: np.ndarray, width: int,
                  graph_name: str, doc: str) -> onnx.ModelProto:
    """The expected score of a randomized mixture of K logistic regressions:
    probability = sum_k w_k * sigmoid(x . coef_k + b_k), as one MatMul + Add + Sigmoid + MatMul."""
    k = len(weights)
    inits = [numpy_helper.from_array(np.ascontiguousarray(coefs.T, dtype=np.float32).reshape(width, k), "W"),
             numpy_helper.from_array(np.ascontiguousarray(intercepts, dtype=np.float32).reshape(k), "B"),
             numpy_helper.from_array(np.ascontiguousarray(weights, dtype=np.float32).reshape(k, 1), "mix")]
    nodes = [helper.make_node("MatMul", ["input", "W"], ["z_mm"], name="members_matmul"),
             helper.make_node("Add", ["z_mm", "B"], ["z"], name="members_add"),
             helper.make_node("Sigmoid", ["z"], ["p_members"], name="members_sigmoid"),
             helper.make_node("MatMul", ["p_members", "mix"], ["probability"], name="mixture")]
    graph = helper.make_graph(nodes, graph_name,
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", width])],
                              [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return _pin(model, graph_name, doc)
