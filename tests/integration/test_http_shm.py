"""Triton's system-shared-memory extension over HTTP (issue 6), black-box: regions are POSIX shm
objects made with Python's multiprocessing.shared_memory (/dev/shm/<name>, key "/<name>"),
registered with /v2/systemsharedmemory and named by KServe tensors' parameters. Inference
through shared memory must equal the same inference through JSON; every bad request is a 400
and the daemon stays up; without --http-shm everything is refused."""
import itertools
import json
import os
import threading
import time

import numpy as np
import pytest
import requests

import packages
from conftest import DIGITS_DIR, NO_ENGINE, Daemon

HELDOUT = json.load(open(os.path.join(DIGITS_DIR, "heldout.json")))
SHM = "/v2/systemsharedmemory"
DIGITS = "/v2/models/mlos%2Fdigits/infer"
BERT = "/v2/models/hf%2Fbert-toy/infer"
_names = itertools.count()

shared_memory = pytest.importorskip("multiprocessing.shared_memory")


class Obj:
    """A POSIX shared-memory object of `size` bytes, unlinked when the test ends."""

    def __init__(self, size):
        self.name = f"mlos-test-{os.getpid()}-{next(_names)}"
        self.shm = shared_memory.SharedMemory(name=self.name, create=True, size=size)
        self.key = "/" + self.name
        self.size = size

    def view(self, dtype, offset=0, count=-1):
        return np.frombuffer(self.shm.buf, dtype=dtype, count=count, offset=offset)

    def close(self):
        try:
            self.shm.close()
        except BufferError:
            pass  # a numpy view is still alive; the unlink below is what matters
        try:
            self.shm.unlink()
        except FileNotFoundError:
            pass


@pytest.fixture
def objs():
    made = []

    def make(size):
        o = Obj(size)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


@pytest.fixture(scope="module")
def shmd(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("shmd"), extra_args=["--http-shm"]).start()
    yield d
    assert d.alive(), "the daemon died during the module:\n" + d.logs()
    assert d.stop() == 0, d.logs()


@pytest.fixture(autouse=True)
def stays_up(request):
    yield
    if "shmd" in request.fixturenames:
        d = request.getfixturevalue("shmd")
        assert d.alive(), d.logs()
        assert d.get("/health").status_code == 200
        assert d.post(SHM + "/unregister").status_code == 200


@pytest.fixture(scope="module")
def engine_shm(shmd, tmp_path_factory):
    if not shmd.engine_ready():
        pytest.skip(NO_ENGINE)
    cache = tmp_path_factory.mktemp("bert")
    d = packages.write_package(cache, "hf", "bert-toy", "latest", packages.bert_toy(),
                               *packages.BERT_IO)
    r = shmd.post("/models/register", json={"model_id": "hf/bert-toy@latest", "path": d})
    assert r.status_code == 200, r.text
    return shmd


def register(d, name, key, offset=0, byte_size=None, **extra):
    body = {"key": key, "offset": offset, "byte_size": byte_size, **extra}
    return d.post(f"{SHM}/region/{name}/register", json=body)


def shm_params(region, nbytes, offset=None):
    p = {"shared_memory_region": region, "shared_memory_byte_size": nbytes}
    if offset is not None:
        p["shared_memory_offset"] = offset
    return p


def assert_400(r, *words):
    assert r.status_code == 400, (r.status_code, r.text)
    msg = r.json()["error"]
    for w in words:
        assert str(w) in msg, (w, msg)
    return msg


# ---- registration ----

def test_metadata_lists_the_extension(shmd):
    assert "system_shared_memory" in shmd.get("/v2").json()["extensions"]


def test_register_status_unregister_round_trip(shmd, objs):
    a, b = objs(4096), objs(3 * 4096)
    assert register(shmd, "ra", a.key, 0, 4096).status_code == 200
    r = register(shmd, "rb", b.key, 4100, 8000)  # an offset that is not page-aligned
    assert r.status_code == 200, r.text
    assert shmd.get(SHM + "/status").json() == [
        {"name": "ra", "key": a.key, "offset": 0, "byte_size": 4096},
        {"name": "rb", "key": b.key, "offset": 4100, "byte_size": 8000}]
    assert shmd.get(SHM + "/region/rb/status").json() == [
        {"name": "rb", "key": b.key, "offset": 4100, "byte_size": 8000}]
    assert shmd.post(SHM + "/region/ra/unregister").status_code == 200
    assert_400(shmd.get(SHM + "/region/ra/status"), "ra")
    assert [x["name"] for x in shmd.get(SHM + "/status").json()] == ["rb"]
    # Unregistering is idempotent, as in Triton.
    assert shmd.post(SHM + "/region/ra/unregister").status_code == 200
    assert shmd.post(SHM + "/unregister").status_code == 200
    assert shmd.get(SHM + "/status").json() == []
    # A name that needs percent-encoding.
    assert register(shmd, "my%20region", a.key, 0, 16).status_code == 200
    assert shmd.get(SHM + "/status").json()[0]["name"] == "my region"


def test_register_rejects_bad_requests(shmd, objs):
    o = objs(8192)
    cases = [
        ({"key": "noslash", "offset": 0, "byte_size": 16}, "key"),
        ({"key": "/a/b", "offset": 0, "byte_size": 16}, "key"),
        ({"key": "/", "offset": 0, "byte_size": 16}, "key"),
        ({"key": "/..", "offset": 0, "byte_size": 16}, "key"),
        ({"key": "/x y", "offset": 0, "byte_size": 16}, "key"),
        ({"key": "/" + "k" * 300, "offset": 0, "byte_size": 16}, "key"),
        ({"key": 5, "offset": 0, "byte_size": 16}, "key"),
        ({"offset": 0, "byte_size": 16}, "key"),
        ({"key": "/mlos-test-no-such-object", "offset": 0, "byte_size": 16}, "unable to open"),
        ({"key": o.key, "offset": 8192, "byte_size": 1}, "runs past the end"),
        ({"key": o.key, "offset": 9000, "byte_size": 16}, "runs past the end"),
        ({"key": o.key, "offset": 0, "byte_size": 8193}, "runs past the end"),
        ({"key": o.key, "offset": 1, "byte_size": 2 ** 64 - 1}, "overflows"),
        ({"key": o.key, "offset": 0, "byte_size": 0}, "positive"),
        ({"key": o.key, "offset": -1, "byte_size": 16}, "offset"),
        ({"key": o.key, "offset": 0, "byte_size": -16}, "byte_size"),
        ({"key": o.key, "offset": 0, "byte_size": 1.5}, "byte_size"),
        ({"key": o.key, "offset": 0}, "byte_size"),
    ]
    for body, word in cases:
        r = shmd.post(SHM + "/region/bad/register", json=body)
        assert_400(r, word)
        assert shmd.get("/health").status_code == 200
    for raw in (b"", b"{", b"[1]", b"null"):
        assert_400(shmd.post(SHM + "/region/bad/register", data=raw))
    assert shmd.get(SHM + "/status").json() == []
    # Duplicate names.
    assert register(shmd, "dup", o.key, 0, 16).status_code == 200
    assert_400(register(shmd, "dup", o.key, 16, 16), "already registered")
    assert shmd.get(SHM + "/region/dup/status").json()[0]["offset"] == 0


def test_routes_and_methods(shmd):
    assert shmd.get(SHM + "/register").status_code == 404
    assert shmd.get(SHM + "/region//status").status_code == 404
    assert shmd.get(SHM + "/region/x/frobnicate").status_code == 404
    assert shmd.get(SHM + "/unregister").status_code == 405
    assert shmd.post(SHM + "/status").status_code == 405
    assert shmd.get(SHM + "/region/x/register").status_code == 405
    assert_400(shmd.get(SHM + "/region/nope/status"), "nope")


# ---- inference ----

def digits_json(d, x):
    req = {"inputs": [{"name": "pixels", "shape": list(x.shape), "datatype": "FP32",
                       "data": x.ravel().tolist()}]}
    r = d.post(DIGITS, json=req)
    assert r.status_code == 200, r.text
    outs = {o["name"]: o for o in r.json()["outputs"]}
    return (np.array(outs["probabilities"]["data"], dtype=np.float32).reshape(x.shape[0], 10),
            np.array(outs["label"]["data"], dtype=np.int64))


def test_infer_through_shm_equals_json(engine_shm, objs):
    d = engine_shm
    x = np.array(HELDOUT["pixels"][:16], dtype=np.float32)
    probs_ref, label_ref = digits_json(d, x)
    assert label_ref.tolist() == HELDOUT["labels"][:16]
    inp, out = objs(8192), objs(4096)
    inp.view(np.float32, 256, x.size)[:] = x.ravel()
    out.view(np.uint8)[:] = 0xAB
    assert register(d, "in", inp.key, 0, 8192).status_code == 200
    # The output region starts 128 bytes into its object: offsets are relative to the region.
    assert register(d, "out", out.key, 128, 3000).status_code == 200
    req = {"inputs": [{"name": "pixels", "shape": [16, 64], "datatype": "FP32",
                       "parameters": shm_params("in", x.nbytes, 256)}],
           "outputs": [{"name": "probabilities", "parameters": shm_params("out", 2000, 64)},
                       {"name": "label"}]}
    r = d.post(DIGITS, json=req)
    assert r.status_code == 200, r.text
    outs = {o["name"]: o for o in r.json()["outputs"]}
    p = outs["probabilities"]
    assert "data" not in p and p["shape"] == [16, 10] and p["datatype"] == "FP32"
    assert p["parameters"] == {"shared_memory_region": "out", "shared_memory_offset": 64,
                               "shared_memory_byte_size": 16 * 10 * 4}
    got = out.view(np.float32, 128 + 64, 160).reshape(16, 10)
    np.testing.assert_array_equal(got, probs_ref)
    # Nothing was written outside the output's bytes.
    raw = out.view(np.uint8)
    assert (raw[:192] == 0xAB).all() and (raw[192 + 640:] == 0xAB).all()
    assert outs["label"]["data"] == label_ref.tolist()
    # The input region was read, not written.
    np.testing.assert_array_equal(inp.view(np.float32, 256, x.size), x.ravel())
    # Zero-copy inputs: changing the region between requests changes the answer.
    inp.view(np.float32, 256, x.size)[:] = np.array(HELDOUT["pixels"][16:32],
                                                    dtype=np.float32).ravel()
    r = d.post(DIGITS, json=req)
    assert r.status_code == 200
    probs2, _ = digits_json(d, np.array(HELDOUT["pixels"][16:32], dtype=np.float32))
    np.testing.assert_array_equal(out.view(np.float32, 192, 160).reshape(16, 10), probs2)


def test_unaligned_windows(engine_shm, objs):
    """Inputs 4 bytes past a page (floats viewed in place at any 4-byte alignment) and one at an
    odd offset (copied); outputs at odd offsets. All equal the JSON answer."""
    d = engine_shm
    x = np.array(HELDOUT["pixels"][40:43], dtype=np.float32)
    probs_ref, _ = digits_json(d, x)
    o = objs(8192)
    assert register(d, "u", o.key, 4, 8000).status_code == 200
    for in_off, out_off in ((0, 1001), (4, 3), (1, 2001)):
        raw = o.view(np.uint8)
        raw[4 + in_off:4 + in_off + x.nbytes] = np.frombuffer(x.tobytes(), dtype=np.uint8)
        body = {"inputs": [{"name": "pixels", "shape": [3, 64], "datatype": "FP32",
                            "parameters": shm_params("u", x.nbytes, in_off)}],
                "outputs": [{"name": "probabilities",
                             "parameters": shm_params("u", 120, out_off)}]}
        r = d.post(DIGITS, json=body)
        assert r.status_code == 200, r.text
        got = np.frombuffer(raw[4 + out_off:4 + out_off + 120].tobytes(), dtype=np.float32)
        np.testing.assert_array_equal(got.reshape(3, 10), probs_ref)


def test_mixed_shm_json_and_binary_inputs(engine_shm, objs):
    d = engine_shm
    ids = np.array([[3, 4, 5, 6], [7, 8, 9, 10]], dtype=np.int64)
    ones, types = np.ones_like(ids), np.array([[0, 1, 0, 1]] * 2, dtype=np.int64)
    o = objs(4096)
    o.view(np.int64, 8, ids.size)[:] = ids.ravel()
    assert register(d, "ids", o.key, 0, 4096).status_code == 200
    header = {"inputs": [
        {"name": "input_ids", "shape": [2, 4], "datatype": "INT64",
         "parameters": shm_params("ids", ids.nbytes, 8)},
        {"name": "attention_mask", "shape": [2, 4], "datatype": "INT64",
         "data": ones.ravel().tolist()},
        {"name": "token_type_ids", "shape": [2, 4], "datatype": "INT64",
         "parameters": {"binary_data_size": types.nbytes}}],
        "outputs": [{"name": "logits", "parameters": shm_params("ids", 32, 1024)}]}
    hb = json.dumps(header).encode()
    r = d.post(BERT, data=hb + types.tobytes(),
               headers={"Inference-Header-Content-Length": str(len(hb)),
                        "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    out = r.json()["outputs"][0]
    assert out["parameters"]["shared_memory_byte_size"] == 32 and "data" not in out
    np.testing.assert_array_equal(o.view(np.float32, 1024, 8).reshape(2, 4),
                                  packages.bert_toy_reference(ids, ones, types))


def test_infer_errors_are_400(engine_shm, objs):
    d = engine_shm
    x = np.array(HELDOUT["pixels"][:2], dtype=np.float32)
    o, ro = objs(4096), objs(64)
    o.view(np.float32, 0, x.size)[:] = x.ravel()
    assert register(d, "r", o.key, 0, 1024).status_code == 200
    assert register(d, "small", ro.key, 0, 64).status_code == 200

    def pix(params, **extra):
        return {"inputs": [{"name": "pixels", "shape": [2, 64], "datatype": "FP32",
                            "parameters": params, **extra}]}

    cases = [
        (pix(shm_params("r", 500)), ["pixels", "'r'", "500", "512"]),
        (pix(shm_params("r", 512, 600)), ["pixels", "'r'", "600", "1024"]),
        (pix(shm_params("r", 512, 2 ** 63)), ["pixels", "'r'"]),
        (pix(shm_params("nope", 512)), ["pixels", "'nope'", "not registered"]),
        (pix({"shared_memory_region": "r"}), ["pixels", "together"]),
        (pix({"shared_memory_byte_size": 512}), ["pixels", "together"]),
        (pix({"shared_memory_offset": 0}), ["pixels", "together"]),
        (pix({"shared_memory_region": 7, "shared_memory_byte_size": 512}), ["string"]),
        (pix(shm_params("r", -1)), ["shared_memory_byte_size"]),
        (pix(shm_params("r", 512), data=x.ravel().tolist()), ["pixels", "'data'"]),
        ({**pix(shm_params("r", 512)),
          "outputs": [{"name": "probabilities", "parameters": shm_params("small", 64)}]},
         ["probabilities", "'small'", "80", "64"]),
        ({**pix(shm_params("r", 512)),
          "outputs": [{"name": "probabilities", "parameters": shm_params("r", 80, 1000)}]},
         ["probabilities", "'r'", "1000"]),
        ({**pix(shm_params("r", 512)),
          "outputs": [{"name": "label", "parameters": shm_params("gone", 16)}]},
         ["label", "'gone'"]),
    ]
    for body, words in cases:
        assert_400(d.post(DIGITS, json=body), *words)
        assert d.get("/health").status_code == 200
    # Binary data and shared memory for the same input.
    hb = json.dumps(pix({**shm_params("r", 512), "binary_data_size": 512})).encode()
    r = d.post(DIGITS, data=hb + x.tobytes(),
               headers={"Inference-Header-Content-Length": str(len(hb))})
    assert_400(r, "pixels")
    # The good request still works after all that.
    assert d.post(DIGITS, json=pix(shm_params("r", 512))).status_code == 200


def test_unregister_then_infer(engine_shm, objs):
    d = engine_shm
    o = objs(4096)
    o.view(np.float32, 0, 64)[:] = np.array(HELDOUT["pixels"][0], dtype=np.float32)
    assert register(d, "tmp", o.key, 0, 4096).status_code == 200
    body = {"inputs": [{"name": "pixels", "shape": [1, 64], "datatype": "FP32",
                        "parameters": shm_params("tmp", 256)}]}
    assert d.post(DIGITS, json=body).status_code == 200
    assert d.post(SHM + "/region/tmp/unregister").status_code == 200
    assert_400(d.post(DIGITS, json=body), "tmp", "not registered")
    # Gone from the daemon's view even though the object still exists.
    assert register(d, "tmp", o.key, 0, 4096).status_code == 200
    assert d.post(SHM + "/unregister").status_code == 200
    assert_400(d.post(DIGITS, json=body), "tmp")


def test_truncated_object_is_refused_not_a_crash(engine_shm, objs):
    d = engine_shm
    o = objs(8192)
    assert register(d, "shrinks", o.key, 4096, 4096).status_code == 200
    os.truncate("/dev/shm/" + o.name, 1024)
    body = {"inputs": [{"name": "pixels", "shape": [1, 64], "datatype": "FP32",
                        "parameters": shm_params("shrinks", 256)}]}
    assert_400(d.post(DIGITS, json=body), "shrinks", "shrank")


def test_unregister_races_inference(engine_shm, objs):
    """Regions are refcounted: unregistering while requests use one never faults."""
    d = engine_shm
    n = 256
    x = np.array((HELDOUT["pixels"] * 2)[:n], dtype=np.float32)
    inp, out = objs(x.nbytes), objs(n * 40)
    inp.view(np.float32)[:] = x.ravel()
    body = {"inputs": [{"name": "pixels", "shape": [n, 64], "datatype": "FP32",
                        "parameters": shm_params("race-in", x.nbytes)}],
            "outputs": [{"name": "probabilities", "parameters": shm_params("race-out", n * 40)}]}
    stop = time.time() + 3
    codes = []

    def client():
        s = requests.Session()
        while time.time() < stop:
            codes.append(s.post(d.url + DIGITS, json=body, timeout=30).status_code)

    def churn():
        s = requests.Session()
        while time.time() < stop:
            s.post(f"{d.url}{SHM}/region/race-in/register",
                   json={"key": inp.key, "offset": 0, "byte_size": x.nbytes})
            s.post(f"{d.url}{SHM}/region/race-out/register",
                   json={"key": out.key, "offset": 0, "byte_size": n * 40})
            s.post(f"{d.url}{SHM}/region/race-in/unregister")
            s.post(f"{d.url}{SHM}/unregister")

    threads = [threading.Thread(target=client) for _ in range(3)] + [threading.Thread(target=churn)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 200 in codes  # some requests did run against live regions
    assert codes and set(codes) <= {200, 400}, set(codes)
    assert d.alive(), d.logs()


# ---- disabled (the default) ----

def test_disabled_by_default(daemon, objs):
    o = objs(4096)
    assert "system_shared_memory" not in daemon.get("/v2").json()["extensions"]
    for method, path in (("get", "/status"), ("post", "/unregister"),
                         ("get", "/region/r/status"), ("post", "/region/r/unregister")):
        assert_400(getattr(daemon, method)(SHM + path), "--http-shm")
    assert_400(register(daemon, "r", o.key, 0, 4096), "--http-shm")
    body = {"inputs": [{"name": "pixels", "shape": [1, 64], "datatype": "FP32",
                        "parameters": shm_params("r", 256)}]}
    r = daemon.post(DIGITS, json=body)
    if r.status_code != 503:  # 503: this build has no engine to load the model
        assert_400(r, "pixels", "--http-shm")
    assert daemon.get("/health").status_code == 200
