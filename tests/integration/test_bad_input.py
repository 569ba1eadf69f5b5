"""Bad input of every kind gets a clear 4xx; the daemon stays up and loses nothing."""
import os
import socket
import time
import urllib.parse

import pytest
import requests

import packages
from conftest import DIGITS_ID, NO_ENGINE

ENC = urllib.parse.quote(DIGITS_ID, safe="")
INFER = f"/models/{ENC}/inference"


def raw(daemon, payload, timeout=10, shut_write=False):
    s = socket.create_connection(("127.0.0.1", daemon.port))
    s.settimeout(timeout)
    s.sendall(payload)
    if shut_write:
        s.shutdown(socket.SHUT_WR)
    data = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except socket.timeout:
        pass
    s.close()
    return data


@pytest.fixture(autouse=True)
def still_healthy(daemon):
    models_before = daemon.get("/models").json()["total"]
    yield
    assert daemon.alive(), daemon.logs()
    assert daemon.get("/health").status_code == 200
    assert daemon.get("/models").json()["total"] == models_before


@pytest.mark.parametrize("body", [b"{", b'{"pixels": [1, 2', b"not json", b"", b"[1,2,3]",
                                  b'{"pixels": }', b"\xff\xfe\x00", b"{" * 100000,
                                  b"[" * 100000 + b"]" * 100000, b'{"a":1} trailing'])
def test_malformed_and_truncated_json(daemon, body):
    for path in (INFER, "/models/register", "/v2/models/mlos%2Fdigits/infer",
                 "/plugins/register"):
        r = daemon.post(path, data=body)
        assert 400 <= r.status_code < 500 or (r.status_code == 503 and path != "/models/register"), \
            (path, r.status_code, r.text)
        assert "error" in r.json()


def test_wrong_dtype_shape_and_name(engine):
    cases = [
        ({"pixels": ["a"] * 64}, "string"),
        ({"pixels": [True] * 64}, "number"),
        ({"pixels": [1] * 63}, "do not fit"),
        ({"pixels": [[1] * 64, [1] * 63]}, "ragged"),
        ({"pixels": [[1] * 32]}, "shape"),
        ({"image": [1] * 64, "pixels": [1] * 64}, "unknown input"),
        ({"pixels": [1] * 64, "extra": 1}, "unknown input"),
        ({"pixels": {"x": 1}}, ""),
        ({"pixels": None}, ""),
        ('{"pixels": [' + ",".join(["1e400"] * 64) + "]}", "JSON"),  # overflows a double
    ]
    for body, word in cases:
        r = engine.post(INFER, data=body) if isinstance(body, str) else engine.post(INFER, json=body)
        assert r.status_code == 400, (body if len(str(body)) < 200 else word, r.text)
        assert word in r.json()["error"], r.json()["error"]


def test_kserve_bad_requests(engine):
    good = {"name": "pixels", "shape": [1, 64], "datatype": "FP32", "data": [0.0] * 64}
    cases = [
        {"inputs": [dict(good, datatype="INT64")]},
        {"inputs": [dict(good, datatype="FP99")]},
        {"inputs": [dict(good, shape=[1, 63])]},
        {"inputs": [dict(good, shape=[2, 64])]},
        {"inputs": [dict(good, name="nope")]},
        {"inputs": [good, good]},
        {"inputs": []},
        {"inputs": "x"},
        {"inputs": [dict(good, shape=[-1, 64])]},
        {"inputs": [good], "outputs": [{"name": "nope"}]},
        {"inputs": [{"name": "pixels", "shape": [1, 64], "datatype": "FP32",
                     "parameters": {"binary_data_size": 256}}]},
    ]
    for body in cases:
        r = engine.post("/v2/models/mlos%2Fdigits/infer", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]
    for hdr in ("abc", "99999999", "-1"):
        r = engine.post("/v2/models/mlos%2Fdigits/infer", data=b"{}",
                        headers={"Inference-Header-Content-Length": hdr})
        assert r.status_code == 400


def test_unknown_model(daemon):
    r = daemon.post("/models/nope%2Fnope%401/inference", json={"x": [1]})
    assert r.status_code == 404 and "not registered" in r.json()["error"]
    r = daemon.post("/v2/models/nope/versions/3/infer", json={"inputs": []})
    assert r.status_code == 404


def test_bad_registrations(daemon, tmp_path):
    d = packages.write_package(tmp_path, "t", "m", "1", b"not an onnx model",
                               [("x", "float32", (1,))], [("y", "float32", (1,))], with_sha=False)
    cases = [
        ({}, 400),
        ({"model_id": "a/b@1"}, 400),
        ({"model_id": "a/b@1", "path": "/definitely/not/here"}, 400),
        ({"model_id": "../../etc@1", "path": d}, 400),
        ({"model_id": "a/b@1/..", "path": d}, 400),
        ({"model_id": 5, "path": d}, 400),
        ({"model_id": "a/b@1", "path": str(tmp_path)}, 400),  # no model file
    ]
    for body, code in cases:
        r = daemon.post("/models/register", json=body)
        assert r.status_code == code, (body, r.text)
        assert r.json()["error"]
    if daemon.engine_ready():
        r = daemon.post("/models/register", json={"model_id": "t/m@1", "path": d})
        assert r.status_code == 422, r.text  # the plugin cannot load it
    bad_yaml = tmp_path / "bad"
    bad_yaml.mkdir()
    (bad_yaml / "manifest.yaml").write_text("metadata: [unclosed\n  spec: {")
    (bad_yaml / "model.onnx").write_bytes(packages.bert_toy())
    r = daemon.post("/models/register", json={"model_id": "t/y@1", "path": str(bad_yaml)})
    assert r.status_code == 400 and "manifest" in r.json()["error"]


def test_sha256_mismatch_refused(daemon, tmp_path):
    d = packages.write_package(tmp_path, "t", "sha", "1", packages.bert_toy(),
                               *packages.BERT_IO)
    with open(os.path.join(d, "model.onnx"), "ab") as f:
        f.write(b"tampered")
    r = daemon.post("/models/register", json={"model_id": "t/sha@1", "path": d})
    assert r.status_code == 422 and "sha256" in r.json()["error"]


@pytest.mark.parametrize("members,word", [
    ([("/etc/evil", b"x")], "absolute"),
    ([("../evil", b"x")], ".."),
    ([("ok/../../evil", b"x")], ".."),
    ([("link", None, "/etc"), ("link/passwd", b"x")], "absolute"),
    ([("link", None, "../../.."), ("model.onnx", b"x")], ".."),
    ([("a", None, "."), ("a/../escape", b"x")], ".."),
    ([("hard", None, "@/etc/passwd")], "absolute"),
])
def test_archive_path_traversal(daemon, tmp_path, members, word):
    arch = packages.axon_archive(str(tmp_path / "evil.axon"), members)
    r = daemon.post("/models/register", json={"model_id": "evil/pkg@1", "path": arch})
    assert r.status_code == 400, r.text
    assert word in r.json()["error"], r.json()["error"]
    assert not os.path.exists(tmp_path / "evil")
    assert not os.path.exists("/evil") and not os.path.exists(tmp_path.parent / "evil")
    data_pkgs = os.path.join(daemon.data_dir, "packages")
    leftovers = [p for p in os.listdir(data_pkgs)] if os.path.isdir(data_pkgs) else []
    assert not [p for p in leftovers if p.startswith(".extract")], leftovers


def test_corrupt_archive(daemon, tmp_path):
    p = tmp_path / "bad.axon"
    p.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    r = daemon.post("/models/register", json={"model_id": "bad/arch@1", "path": str(p)})
    assert r.status_code == 400 and r.json()["error"]


def test_oversized_body(daemon_factory):
    d = daemon_factory(extra_args=["--max-body-bytes", "1000"]).start()
    r = d.post("/models/register", data=b"x" * 5000)
    assert r.status_code == 413
    # Announced but not sent: refused from the headers alone.
    data = raw(d, b"POST /models/register HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 413")
    chunked = b"POST /models/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    data = raw(d, chunked + b"800\r\n" + b"x" * 2048 + b"\r\n0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 413")
    assert d.get("/health").status_code == 200
    assert d.stop() == 0


def test_default_body_limit_is_64_mib(daemon):
    data = raw(daemon, b"POST /models/register HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
               % (64 * 1024 * 1024 + 1))
    assert data.startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("payload,code", [
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET /health HTTP/9.9\r\n\r\n", b"505"),
    (b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n", b"400"),
    (b"GET /health HTTP/1.1\r\n folded: x\r\n\r\n", b"400"),
    (b"GET /health HTTP/1.1\r\nContent-Length: abc\r\n\r\n", b"400"),
    (b"GET /health HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", b"400"),
    (b"GET /health HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"501"),
    (b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
    (b"GET health HTTP/1.1\r\n\r\n", b"400"),
    (b"GET /\x01 HTTP/1.1\r\n\r\n", b"400"),
    (b"GET /health HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
    (b"GET /health HTTP/1.1\r\n" + b"X-A: 1\r\n" * 200 + b"\r\n", b"431"),
    (b"GET /models/%zz HTTP/1.1\r\nConnection: close\r\n\r\n", b"400"),
])
def test_malformed_http(daemon, payload, code):
    data = raw(daemon, payload)
    assert data.startswith(b"HTTP/1.1 " + code), data[:200]


def test_half_open_connection(daemon):
    # Half a request, then the client closes its sending side: a 400, not a hang.
    data = raw(daemon, b"POST /models/register HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"a\"",
               shut_write=True)
    assert data.startswith(b"HTTP/1.1 400"), data
    # A full request then a half-close still gets its answer.
    data = raw(daemon, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", shut_write=True)
    assert data.startswith(b"HTTP/1.1 200")
    # Connections dropped mid-request, many times over.
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", daemon.port))
        s.sendall(b"POST /models/register HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
        s.close()


def test_idle_connections_closed(daemon_factory):
    d = daemon_factory(extra_args=["--idle-timeout-ms", "300"]).start()
    idle = socket.create_connection(("127.0.0.1", d.port))
    partial = socket.create_connection(("127.0.0.1", d.port))
    partial.sendall(b"GET /health HTTP/1.1\r\nHost")
    time.sleep(1.0)
    idle.settimeout(5)
    assert idle.recv(100) == b""  # closed without a word
    partial.settimeout(5)
    assert partial.recv(1000).startswith(b"HTTP/1.1 408")
    assert d.get("/stats").json()["apis"]["http"]["active_connections"] <= 1
    assert d.stop() == 0


def test_connection_limit(daemon_factory):
    d = daemon_factory(extra_args=["--max-connections", "8", "--http-threads", "1"]).start()
    held = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(8)]
    time.sleep(0.2)
    # Over the limit: answered 503 and closed at once (before it sends anything, so the close
    # is a clean FIN rather than a reset of unread bytes).
    s = socket.create_connection(("127.0.0.1", d.port))
    s.settimeout(10)
    extra = s.recv(1000)
    s.close()
    assert extra.startswith(b"HTTP/1.1 503"), extra
    for s in held:
        s.close()
    time.sleep(0.2)
    assert d.get("/health").status_code == 200
    assert d.stop() == 0
