"""Every route of the HTTP API answers with the documented shape (no engine needed here)."""
import json
import socket
import time

import requests

from conftest import DIGITS_ID


def test_health(daemon):
    r = daemon.get("/health")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["status"] == "healthy"
    assert body["service"] == "mlos-core"
    assert body["version"]
    assert "http" in body["apis"]
    assert isinstance(body["timestamp"], int) and body["timestamp"] > 1.6e9


def test_stats_counts_requests(daemon):
    before = daemon.get("/stats").json()
    daemon.get("/health")
    daemon.get("/no/such/route")
    after = daemon.get("/stats").json()
    assert after["status"] == "success"
    for key in ("total_requests", "successful_requests", "failed_requests",
                "avg_response_time_us", "uptime_seconds", "apis"):
        assert key in after
    assert after["total_requests"] >= before["total_requests"] + 3
    assert after["failed_requests"] >= before["failed_requests"] + 1
    assert after["apis"]["http"]["state"] == "running"
    assert after["apis"]["grpc"]["state"] in ("disabled", "not_implemented")
    assert after["uptime_seconds"] > 0


def test_metrics_prometheus_text(daemon):
    daemon.get("/health")
    r = daemon.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert 'mlos_http_requests_total{route="/health",code="2xx"}' in text
    assert "mlos_http_request_duration_seconds_bucket" in text
    assert "process_cpu_seconds_total" in text
    assert "process_resident_memory_bytes" in text
    assert f'mlos_model_memory_bytes{{model="{DIGITS_ID}"}}' in text
    # Every sample line is "name{labels} value" or "name value".
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            float(value)


def test_models_list_and_get(daemon):
    r = daemon.get("/models")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "success"
    assert body["total"] == len(body["models"]) >= 1
    m = next(m for m in body["models"] if m["id"] == DIGITS_ID)
    for key in ("id", "name", "plugin_id", "status", "framework", "path"):
        assert key in m
    assert m["name"] == "digits" and m["framework"] == "onnx"
    for path in ("/models/mlos%2Fdigits%401.0.0", "/models/mlos/digits@1.0.0",
                 "/models/mlos%2Fdigits"):
        r = daemon.get(path)
        assert r.status_code == 200, path
        detail = r.json()["model"]
        assert detail["id"] == DIGITS_ID
        assert detail["inputs"][0]["name"] == "pixels"
        assert detail["inputs"][0]["shape"] == [-1, 64]


def test_unknown_model_404(daemon):
    for method, path in (("get", "/models/none%2Fnothing%401"),
                         ("delete", "/models/none%2Fnothing%401"),
                         ("post", "/models/none%2Fnothing%401/inference"),
                         ("get", "/v2/models/none%2Fnothing"),
                         ("post", "/v2/models/nothing/infer")):
        r = getattr(daemon, method)(path, data="{}")
        assert r.status_code == 404, (method, path)
        assert "error" in r.json()


def test_method_not_allowed(daemon):
    r = daemon.delete("/health")
    assert r.status_code == 405
    assert "error" in r.json()
    r = daemon.get("/models/register")
    assert r.status_code in (404, 405)


def test_plugins_list(daemon):
    r = daemon.get("/plugins")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "success"
    assert body["total"] == len(body["plugins"])
    for p in body["plugins"]:
        assert {"id", "name", "version"} <= set(p)


def test_plugins_register_needs_a_library(daemon):
    # The seed's example body names no library: a clear 400, not a crash.
    r = daemon.post("/plugins/register",
                    json={"id": "my-plugin", "name": "My ML Plugin", "version": "1.0.0"})
    assert r.status_code == 400
    assert "path" in r.json()["error"]
    r = daemon.post("/plugins/register",
                    json={"id": "x", "name": "x", "version": "1", "path": "/nonexistent/libx.so"})
    assert 400 <= r.status_code < 500 or r.status_code == 503
    r = daemon.delete("/plugins/not-a-plugin")
    assert r.status_code in (404, 503)


def test_kserve_server_routes(daemon):
    r = daemon.get("/v2")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "mlos-core" and "binary_tensor_data" in body["extensions"]
    assert daemon.get("/v2/health/live").status_code == 200
    assert daemon.get("/v2/health/ready").status_code == 200


def test_kserve_model_metadata(daemon):
    for path in ("/v2/models/mlos%2Fdigits", "/v2/models/mlos/digits",
                 "/v2/models/digits", "/v2/models/digits/versions/1.0.0",
                 "/v2/models/mlos%2Fdigits/versions/1.0.0"):
        r = daemon.get(path)
        assert r.status_code == 200, path
        md = r.json()
        assert md["versions"] == ["1.0.0"]
        assert md["inputs"] == [{"name": "pixels", "datatype": "FP32", "shape": [-1, 64]}]
        assert {o["name"] for o in md["outputs"]} == {"probabilities", "label"}
    assert daemon.get("/v2/models/digits/versions/9.9.9").status_code == 404


def test_server_sent_events(daemon):
    r = daemon.get("/events?interval_ms=50&count=3", stream=True)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/event-stream"
    assert r.headers.get("Transfer-Encoding") == "chunked"
    events = [line for line in r.iter_lines() if line.startswith(b"data: ")]
    assert len(events) == 3
    for e in events:
        assert json.loads(e[6:])["status"] == "success"
    assert daemon.get("/events?interval_ms=1").status_code == 400


def test_keep_alive_and_pipelining(daemon):
    s = socket.create_connection(("127.0.0.1", daemon.port))
    req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    s.sendall(req * 20 + b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    s.settimeout(10)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.count(b"HTTP/1.1 200 OK") == 21
    assert data.count(b'"status":"healthy"') == 20


def test_chunked_request_body_and_head(daemon):
    s = socket.create_connection(("127.0.0.1", daemon.port))
    body = b'{"model_id": "x/y@1", "path": "/nonexistent"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7])
                      for i in range(0, len(body), 7))
    s.sendall(b"POST /models/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
              b"Connection: close\r\n\r\n" + chunks + b"0\r\n\r\n")
    s.settimeout(10)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    # The body arrived whole: the error is about the path, not the JSON.
    assert data.startswith(b"HTTP/1.1 400"), data
    assert b"does not exist" in data
    r = requests.head(daemon.url + "/health", timeout=5)
    assert r.status_code == 200 and r.content == b""


def test_cors_off_by_default(daemon):
    r = daemon.get("/health", headers={"Origin": "http://example.com"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_cors_when_configured(daemon_factory):
    d = daemon_factory(extra_args=["--cors-origin", "*"]).start()
    r = d.get("/health", headers={"Origin": "http://example.com"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.options(d.url + "/models/register", timeout=5,
                         headers={"Origin": "http://example.com",
                                  "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert d.stop() == 0


def test_config_file_and_environment(daemon_factory, tmp_path):
    cfg = tmp_path / "mlos.yaml"
    cfg.write_text("log_level: warn\nhttp-threads: 1\ncors_origin: http://a.example\n")
    d = daemon_factory(extra_args=["--config", str(cfg)],
                       env={"MLOS_CORS_ORIGIN": "http://b.example"}).start()
    # The environment overrides the file.
    assert d.get("/health").headers["Access-Control-Allow-Origin"] == "http://b.example"
    assert d.stop() == 0
    logs = d.logs()
    assert '"level":"info"' not in logs  # log_level from the file applied


def test_structured_logs(daemon):
    lines = [l for l in daemon.logs().splitlines() if l.startswith("{")]
    assert lines
    for line in lines:
        rec = json.loads(line)
        assert {"ts", "level", "msg"} <= set(rec)


def test_bad_flag_exits_2(tmp_path):
    import subprocess
    from conftest import BINARY
    p = subprocess.run([BINARY, "--no-such-flag"], capture_output=True, timeout=10)
    assert p.returncode == 2
    assert b"unknown flag" in p.stderr
    p = subprocess.run([BINARY, "--help"], capture_output=True, timeout=10)
    assert p.returncode == 0 and b"--http-port" in p.stdout


def test_graceful_shutdown_finishes_in_flight(daemon_factory):
    d = daemon_factory().start()
    s = socket.create_connection(("127.0.0.1", d.port))
    body = b'{"model_id": "a/b@1", "path": "/nonexistent"}'
    s.sendall(b"POST /models/register HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
              % len(body) + body[:10])
    time.sleep(0.2)
    d.proc.send_signal(15)
    time.sleep(0.3)
    # Still finishing our request: the new connection is refused, ours completes.
    s.sendall(body[10:])
    s.settimeout(10)
    data = s.recv(65536)
    assert data.startswith(b"HTTP/1.1 400"), data
    assert d.proc.wait(timeout=20) == 0


def test_port_in_use_is_an_error(daemon, tmp_path):
    import subprocess
    from conftest import BINARY
    p = subprocess.run([BINARY, "--http-port", str(daemon.port), "--data-dir",
                        str(tmp_path / "d2"), "--no-grpc", "--no-ipc"],
                       capture_output=True, timeout=30)
    assert p.returncode == 1
    assert b"cannot listen" in p.stderr
