"""Inference through the MLOS Core route and KServe v2, checked against independent references:
scikit-learn's probabilities for the embedded digits model, numpy for the test packages."""
import json
import os
import struct
import urllib.parse

import numpy as np
import pytest

import packages
from conftest import DIGITS_DIR, DIGITS_ID, NO_ENGINE

HELDOUT = json.load(open(os.path.join(DIGITS_DIR, "heldout.json")))
ENC = urllib.parse.quote(DIGITS_ID, safe="")


def test_digits_single_image(engine):
    x = HELDOUT["pixels"][0]
    r = engine.post(f"/models/{ENC}/inference?include_outputs=true", json={"pixels": x})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success" and body["model_id"] == DIGITS_ID
    for key in ("inference_time_us", "queue_time_us", "output_size"):
        assert isinstance(body[key], int) and body[key] >= 0
    assert body["output_size"] == 10 * 4 + 8
    probs = np.array(body["outputs"]["probabilities"], dtype=np.float32)
    np.testing.assert_allclose(probs, HELDOUT["probabilities"][0], atol=1e-4)
    assert body["outputs"]["label"] == [HELDOUT["labels"][0]]
    # Without include_outputs the values are left out.
    r = engine.post(f"/models/{ENC}/inference", json={"pixels": x})
    assert "outputs" not in r.json()


def test_digits_heldout_accuracy_batched(engine):
    x = HELDOUT["pixels"]  # nested [450, 64]
    r = engine.post(f"/models/{ENC}/inference?include_outputs=true", json={"pixels": x})
    assert r.status_code == 200, r.text
    out = r.json()["outputs"]
    labels = np.array(out["label"])
    acc = float((labels == np.array(HELDOUT["labels"])).mean())
    assert acc >= 0.95, acc
    probs = np.array(out["probabilities"], dtype=np.float32).reshape(-1, 10)
    np.testing.assert_allclose(probs, np.array(HELDOUT["probabilities"]), atol=1e-4)


def test_raw_and_encoded_ids_and_flat_input(engine):
    x = HELDOUT["pixels"][3]
    for path in (f"/models/{ENC}/inference", "/models/mlos/digits@1.0.0/inference",
                 "/models/mlos%2Fdigits/inference"):
        r = engine.post(path + "?include_outputs=true", json={"pixels": [x]})
        assert r.status_code == 200, (path, r.text)
        assert r.json()["outputs"]["label"] == [HELDOUT["labels"][3]]


@pytest.fixture(scope="module")
def bert(daemon, tmp_path_factory):
    """An Axon-layout package registered with exactly the body `axon register` sends."""
    if not daemon.engine_ready():
        pytest.skip(NO_ENGINE)
    cache = tmp_path_factory.mktemp("axon-cache")
    d = packages.write_package(cache, "hf", "bert-toy", "latest", packages.bert_toy(),
                               *packages.BERT_IO)
    body = {"model_id": "hf/bert-toy@latest", "name": "bert-toy", "framework": "onnx",
            "execution_format": "onnx", "path": d, "description": "toy",
            "manifest_path": os.path.join(d, "manifest.yaml")}
    r = daemon.post("/models/register", json=body)
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["status"] == "success" and reply["model_id"] == "hf/bert-toy@latest"
    assert reply["inference_endpoint"] == "/models/hf/bert-toy@latest/inference"
    yield daemon
    daemon.delete("/models/hf%2Fbert-toy%40latest")


def test_axon_package_named_multi_input(bert):
    ids, mask, types = [101, 7592, 102], [1, 1, 0], [0, 0, 1]
    r = bert.post("/models/hf%2Fbert-toy%40latest/inference?include_outputs=true",
                  json={"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    assert r.status_code == 200, r.text
    body = r.json()
    want = packages.bert_toy_reference([ids], [mask], [types])
    assert body["output_shapes"]["logits"] == [1, 3]
    np.testing.assert_array_equal(np.array(body["outputs"]["logits"]), want.ravel())
    assert body["output"] == body["outputs"]["logits"]
    # Nested (batched) inputs keep their shape.
    ids2 = [[1, 2, 3, 4], [5, 6, 7, 8]]
    r = bert.post("/models/hf%2Fbert-toy%40latest/inference?include_outputs=true",
                  json={"input_ids": ids2, "attention_mask": [[1] * 4] * 2,
                        "token_type_ids": [[0, 1, 0, 1]] * 2})
    assert r.json()["output_shapes"]["logits"] == [2, 4]
    np.testing.assert_array_equal(
        np.array(r.json()["outputs"]["logits"]),
        packages.bert_toy_reference(ids2, [[1] * 4] * 2, [[0, 1, 0, 1]] * 2).ravel())


def test_axon_package_kserve_same_outputs(bert):
    ids, mask, types = [[101, 2023, 102]], [[1, 1, 1]], [[0, 0, 0]]
    mlos = bert.post("/models/hf%2Fbert-toy%40latest/inference?include_outputs=true",
                     json={"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    req = {"id": "r1", "inputs": [
        {"name": n, "shape": [1, 3], "datatype": "INT64", "data": v}
        for n, v in (("input_ids", ids), ("attention_mask", mask), ("token_type_ids", types))]}
    for path in ("/v2/models/hf%2Fbert-toy/infer", "/v2/models/bert-toy/versions/latest/infer"):
        r = bert.post(path, json=req)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["id"] == "r1" and body["model_version"] == "latest"
        out = body["outputs"][0]
        assert out["name"] == "logits" and out["datatype"] == "FP32" and out["shape"] == [1, 3]
        assert out["data"] == mlos.json()["outputs"]["logits"]


def test_kserve_binary_tensor_data(bert):
    ids = np.array([[3, 4, 5, 6]], dtype=np.int64)
    ones = np.ones_like(ids)
    zeros = np.zeros_like(ids)
    header = {"inputs": [
        {"name": "input_ids", "shape": [1, 4], "datatype": "INT64",
         "parameters": {"binary_data_size": ids.nbytes}},
        {"name": "attention_mask", "shape": [1, 4], "datatype": "INT64", "data": ones.tolist()},
        {"name": "token_type_ids", "shape": [1, 4], "datatype": "INT64",
         "parameters": {"binary_data_size": zeros.nbytes}}],
        "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}
    hb = json.dumps(header).encode()
    r = bert.post("/v2/models/hf%2Fbert-toy/infer", data=hb + ids.tobytes() + zeros.tobytes(),
                  headers={"Inference-Header-Content-Length": str(len(hb)),
                           "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    n = int(r.headers["Inference-Header-Content-Length"])
    meta = json.loads(r.content[:n])
    out = meta["outputs"][0]
    assert out["parameters"]["binary_data_size"] == 16
    got = np.frombuffer(r.content[n:], dtype=np.float32)
    np.testing.assert_array_equal(got, packages.bert_toy_reference(ids, ones, zeros).ravel())


def test_kserve_digits_requested_outputs(engine):
    x = HELDOUT["pixels"][:2]
    req = {"inputs": [{"name": "pixels", "shape": [2, 64], "datatype": "FP32",
                       "data": [v for row in x for v in row]}],
           "outputs": [{"name": "label"}]}
    r = engine.post("/v2/models/mlos%2Fdigits/versions/1.0.0/infer", json=req)
    assert r.status_code == 200, r.text
    outs = r.json()["outputs"]
    assert [o["name"] for o in outs] == ["label"]
    assert outs[0]["datatype"] == "INT64" and outs[0]["shape"] == [2]
    assert outs[0]["data"] == HELDOUT["labels"][:2]


def test_kserve_fp16_json_and_binary(engine, tmp_path):
    d = packages.write_package(tmp_path, "test", "half", "1", packages.half_toy(),
                               [("x", "float16", (-1, 4))], [("y", "float32", (-1, 4))])
    r = engine.post("/models/register", json={"model_id": "test/half@1", "path": d})
    if r.status_code != 200:
        pytest.skip("engine cannot load an FP16 Cast model: " + r.text)
    try:
        vals = [0.5, -1.25, 3.0, 65504.0]
        r = engine.post("/v2/models/test%2Fhalf/infer", json={"inputs": [
            {"name": "x", "shape": [1, 4], "datatype": "FP16", "data": vals}]})
        assert r.status_code == 200, r.text
        assert r.json()["outputs"][0]["data"] == [2 * v for v in vals]
        raw = np.array(vals, dtype=np.float16).tobytes()
        hb = json.dumps({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP16",
                                     "parameters": {"binary_data_size": len(raw)}}]}).encode()
        r = engine.post("/v2/models/test%2Fhalf/infer", data=hb + raw,
                        headers={"Inference-Header-Content-Length": str(len(hb))})
        assert r.status_code == 200, r.text
        assert r.json()["outputs"][0]["data"] == [2 * v for v in vals]
        # The wrong datatype is a clear 400.
        r = engine.post("/v2/models/test%2Fhalf/infer", json={"inputs": [
            {"name": "x", "shape": [1, 4], "datatype": "BF16", "data": vals}]})
        assert r.status_code == 400 and "datatype" in r.json()["error"]
    finally:
        engine.delete("/models/test%2Fhalf%401")


def test_versions_side_by_side(engine, tmp_path):
    ids = []
    for v in ("1", "2"):
        d = packages.write_package(tmp_path, "hf", "twin", v, packages.bert_toy(),
                                   *packages.BERT_IO)
        r = engine.post("/models/register", json={"model_id": f"hf/twin@{v}", "path": d})
        assert r.status_code == 200, r.text
        ids.append(f"hf/twin@{v}")
    try:
        md = engine.get("/v2/models/hf%2Ftwin").json()
        assert md["versions"] == ["1", "2"]
        for v in ("1", "2"):
            assert engine.get(f"/v2/models/hf%2Ftwin/versions/{v}/ready").status_code == 200
        listed = [m["id"] for m in engine.get("/models").json()["models"]]
        assert "hf/twin@1" in listed and "hf/twin@2" in listed
    finally:
        for i in ids:
            assert engine.delete("/models/" + urllib.parse.quote(i, safe="")).status_code == 200
    assert engine.get("/models/hf%2Ftwin%401").status_code == 404


def test_metrics_per_model(engine):
    engine.post(f"/models/{ENC}/inference", json={"pixels": HELDOUT["pixels"][0]})
    text = engine.get("/metrics").text
    assert f'mlos_model_inference_requests_total{{model="{DIGITS_ID}",result="success"}}' in text
    assert f'mlos_model_queue_duration_seconds_count{{model="{DIGITS_ID}"}}' in text
    assert f'mlos_model_overhead_duration_seconds_bucket{{model="{DIGITS_ID}",le="0.0001"}}' in text
