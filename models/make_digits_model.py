#!/usr/bin/python3
"""Trains and exports MLOS's embedded default model: a handwritten-digit classifier.

Data: scikit-learn's 8x8 digits (Debian python3-sklearn), 1797 images, 64 pixels of 0..16.
Model: a 64-64-10 MLP (ReLU, softmax) trained with sklearn's MLPClassifier on 75% of the
images; the other 25% are held out and the script refuses to export below 95% accuracy on them.
Export: an ONNX graph written with onnx.helper (no converter package needed):

    pixels [N,64] float32 (raw 0..16)
      -> Mul 1/16 -> MatMul W1 -> Add b1 -> Relu -> MatMul W2 -> Add b2 -> Softmax
      -> "probabilities" [N,10] float32
      -> Hardmax -> MatMul [0..9] -> Cast int64 -> Reshape [-1] -> "label" [N] int64

Run with Debian's interpreter from the repository root:  /usr/bin/python3 models/make_digits_model.py
Writes models/mlos/digits/1.0.0/{model.onnx, manifest.yaml, example.json, heldout.json}.
"""
import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "mlos", "digits", "1.0.0")


def build_graph(clf):
    w1, w2 = [w.astype(np.float32) for w in clf.coefs_]
    b1, b2 = [b.astype(np.float32) for b in clf.intercepts_]
    inits = [
        numpy_helper.from_array(np.array([1.0 / 16.0], dtype=np.float32), "scale"),
        numpy_helper.from_array(w1, "W1"),
        numpy_helper.from_array(b1, "b1"),
        numpy_helper.from_array(w2, "W2"),
        numpy_helper.from_array(b2, "b2"),
        numpy_helper.from_array(np.arange(10, dtype=np.float32).reshape(10, 1), "digits"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat"),
    ]
    nodes = [
        helper.make_node("Mul", ["pixels", "scale"], ["x"]),
        helper.make_node("MatMul", ["x", "W1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h"]),
        helper.make_node("MatMul", ["h", "W2"], ["z0"]),
        helper.make_node("Add", ["z0", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        helper.make_node("Hardmax", ["logits"], ["onehot"], axis=-1),
        helper.make_node("MatMul", ["onehot", "digits"], ["label_f"]),
        helper.make_node("Cast", ["label_f"], ["label_i"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["label_i", "flat"], ["label"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlos_digits",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 64])],
        [
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="mlos make_digits_model.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def reference(clf, x):
    """The exported graph's computation in numpy (checks the export against sklearn)."""
    h = np.maximum(x / 16.0 @ clf.coefs_[0] + clf.intercepts_[0], 0)
    z = h @ clf.coefs_[1] + clf.intercepts_[1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=42, stratify=y)
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=600, random_state=0)
    clf.fit(x_train / 16.0, y_train)
    acc = float((clf.predict(x_test / 16.0) == y_test).mean())
    print(f"held-out accuracy: {acc:.4f} on {len(y_test)} images")
    if acc < 0.95:
        raise SystemExit("accuracy below 95%; not exporting")
    probs = reference(clf, x_test)
    assert np.allclose(probs, clf.predict_proba(x_test / 16.0), atol=1e-5)

    os.makedirs(OUT, exist_ok=True)
    model = build_graph(clf)
    path = os.path.join(OUT, "model.onnx")
    onnx.save(model, path)
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()

    manifest = f"""apiVersion: mlos.ai/v1
kind: Model
metadata:
  name: digits
  namespace: mlos
  version: 1.0.0
  description: >-
    Handwritten digit classifier (8x8 images, pixels 0..16, row-major) trained on
    scikit-learn's digits; {acc * 100:.1f}% accuracy on {len(y_test)} held-out images.
  license: BSD-3-Clause
spec:
  framework:
    name: onnx
    version: "1.12"
  format:
    type: onnx
    execution_format: onnx
    files:
      - path: model.onnx
        size: {os.path.getsize(path)}
        sha256: {sha}
    execution_files:
      - model.onnx
  io:
    inputs:
      - name: pixels
        dtype: float32
        shape: [-1, 64]
        preprocessing: 8x8 grayscale image flattened row-major, values 0 (white) to 16 (black)
    outputs:
      - name: probabilities
        dtype: float32
        shape: [-1, 10]
      - name: label
        dtype: int64
        shape: [-1]
  requirements:
    compute:
      cpu: "1"
      memory: 16Mi
      gpu: false
"""
    with open(os.path.join(OUT, "manifest.yaml"), "w") as f:
        f.write(manifest)
    # One held-out image for the README's curl, and the whole held-out set for the tests.
    with open(os.path.join(OUT, "example.json"), "w") as f:
        json.dump({"pixels": x_test[0].astype(int).tolist()}, f)
        f.write("\n")
    with open(os.path.join(OUT, "heldout.json"), "w") as f:
        json.dump({"pixels": x_test.astype(int).tolist(), "labels": y_test.tolist(),
                   "probabilities": probs.round(6).tolist(), "accuracy": acc}, f)
    print(f"wrote {OUT} (example digit: {int(y_test[0])})")


if __name__ == "__main__":
    main()
