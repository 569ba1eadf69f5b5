"""Builders for the test models and Axon packages (onnx.helper; Debian's python3-onnx)."""
import hashlib
import io
import os
import tarfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(graph, opset=13):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def bert_toy():
    """Three int64 inputs like BERT's; logits[b, s] = ids*mask + 1000*type_ids, as float32."""
    ins = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
           for n in ("input_ids", "attention_mask", "token_type_ids")]
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence"])
    k = numpy_helper.from_array(np.array(1000, dtype=np.int64), "k")
    nodes = [
        helper.make_node("Mul", ["input_ids", "attention_mask"], ["a"]),
        helper.make_node("Mul", ["token_type_ids", "k"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["c"]),
        helper.make_node("Cast", ["c"], ["logits"], to=TensorProto.FLOAT),
    ]
    return _save(helper.make_graph(nodes, "bert_toy", ins, [out], initializer=[k]))


def bert_toy_reference(ids, mask, types):
    return (np.asarray(ids) * np.asarray(mask) + 1000 * np.asarray(types)).astype(np.float32)


def half_toy():
    """x FP16 [-1, 4] -> y = 2 * float(x) as float32."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    nodes = [helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["xf", "two"], ["y"])]
    return _save(helper.make_graph(nodes, "half_toy", [x], [y], initializer=[two]))


def manifest(ns, name, version, inputs, outputs, files=("model.onnx",), sha=None,
             package_sha=None, framework="onnx"):
    def io_list(items):
        out = ""
        for n, dt, shape in items:
            out += f"      - name: {n}\n        dtype: {dt}\n        shape: {list(shape)}\n"
        return out
    file_lines = ""
    for f in files:
        file_lines += f"      - path: {f}\n"
        if sha:
            file_lines += f"        sha256: {sha}\n"
    text = f"""apiVersion: axon.mlos.ai/v1
kind: Model
metadata:
  name: {name}
  namespace: {ns}
  version: {version}
  description: test package {name}
spec:
  framework:
    name: {framework}
    version: "1.0"
  format:
    type: onnx
    execution_format: onnx
    files:
{file_lines}    execution_files:
      - model.onnx
  io:
    inputs:
{io_list(inputs)}    outputs:
{io_list(outputs)}  requirements:
    compute:
      cpu: "1"
      memory: 64Mi
      gpu: false
"""
    if package_sha:
        text += f"distribution:\n  package:\n    url: file:///dev/null\n    size: 1\n    sha256: {package_sha}\n"
    return text


BERT_IO = ([("input_ids", "int64", (-1, -1)), ("attention_mask", "int64", (-1, -1)),
            ("token_type_ids", "int64", (-1, -1))], [("logits", "float32", (-1, -1))])


def write_package(root, ns, name, version, model_bytes, inputs, outputs, with_sha=True):
    """An Axon cache-layout package: root/ns/name/version/{manifest.yaml, model.onnx}."""
    d = os.path.join(str(root), ns, name, version)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    sha = hashlib.sha256(model_bytes).hexdigest() if with_sha else None
    with open(os.path.join(d, "manifest.yaml"), "w") as f:
        f.write(manifest(ns, name, version, inputs, outputs, sha=sha))
    return d


def axon_archive(path, members):
    """A gzip tar at `path`; members are (name, bytes) files or (name, None, linkname) links."""
    with tarfile.open(path, "w:gz") as tar:
        for m in members:
            info = tarfile.TarInfo(m[0])
            if len(m) == 3:
                info.type = tarfile.SYMTYPE if m[2][0] != "@" else tarfile.LNKTYPE
                info.linkname = m[2].lstrip("@")
                tar.addfile(info)
            else:
                info.size = len(m[1])
                tar.addfile(info, io.BytesIO(m[1]))
    return path


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
