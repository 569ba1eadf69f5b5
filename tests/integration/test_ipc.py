"""The IPC socket of the real daemon: the raw protocol from Python (frames, SCM_RIGHTS, bad fds,
out-of-region offsets, vanishing and concurrent clients) and the ml_llm_kernel_api module,
embedded and remote, with identical outputs. Reuses conftest's Daemon; IPC is turned on here."""
import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest
import requests

from conftest import BINARY, BUILD, DIGITS_DIR, DIGITS_ID, REPO, Daemon

MAGIC = 0x534F4C4D
HEALTH, STATS, MODEL_LIST, MODEL_INFO, INFER, SHM_REG, SHM_UNREG = 1, 2, 3, 6, 0x10, 0x20, 0x21
FLAG_ERROR = 2
HELDOUT = json.load(open(os.path.join(DIGITS_DIR, "heldout.json")))
PYDIR = os.path.join(BUILD, "python")


class IpcDaemon(Daemon):
    """conftest's Daemon, started with the IPC server on a private socket."""

    def __init__(self, tmp_path, **kw):
        super().__init__(tmp_path, **kw)
        self.sockdir = tempfile.mkdtemp(prefix="mlos-ipc-")
        self.socket = os.path.join(self.sockdir, "mlos.sock")

    def start(self, port=None):
        from conftest import free_port
        self.port = port or free_port()
        args = [BINARY, "--http-port", str(self.port), "--data-dir", self.data_dir,
                "--models-dir", self.models_dir, "--no-grpc", "--socket", self.socket]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args + self.extra_args, stdout=self.log, stderr=self.log,
                                     env=self.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.logs())
            if os.path.exists(self.socket):
                try:
                    if requests.get(self.url + "/health", timeout=1).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.05)
        raise RuntimeError("no socket:\n" + self.logs())


@pytest.fixture(scope="module")
def ipcd(tmp_path_factory):
    d = IpcDaemon(tmp_path_factory.mktemp("ipcd")).start()
    yield d
    assert d.alive(), d.logs()
    assert d.stop() == 0, d.logs()
    assert not os.path.exists(d.socket), "the socket file is removed at exit"


def frame(op, rid, payload=b"", flags=0):
    return struct.pack("<IHHIIQQ", MAGIC, 1, op, flags, 0, rid, len(payload)) + payload


def s_(text):
    b = text.encode()
    return struct.pack("<I", len(b)) + b


def connect(d):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(d.socket)
    c.settimeout(30)
    return c


def recv_exact(c, n):
    buf = b""
    while len(buf) < n:
        chunk = c.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def reply(c):
    h = recv_exact(c, 32)
    if h is None:
        return None
    magic, ver, op, flags, status, rid, size = struct.unpack("<IHHIIQQ", h)
    assert magic == MAGIC and ver == 1 and flags & 1
    return op, flags, status, rid, recv_exact(c, size)


def call(c, op, payload=b"", rid=1, fds=None):
    data = frame(op, rid, payload)
    if fds:
        socket.send_fds(c, [data], fds)
    else:
        c.sendall(data)
    return reply(c)


def sealed_memfd(size):
    fd = os.memfd_create("t", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, size)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
    return fd


def shm_tensor(name, rows, region, offset):
    return (s_(name) + struct.pack("<BB", 0, 2) + struct.pack("<qq", rows, 64) +
            struct.pack("<BIQQ", 1, region, offset, rows * 64 * 4))


def test_socket_mode_and_health(ipcd):
    assert oct(os.stat(ipcd.socket).st_mode & 0o777) == "0o660"
    c = connect(ipcd)
    op, flags, status, rid, p = call(c, HEALTH, rid=77)
    assert op == HEALTH and not flags & FLAG_ERROR and rid == 77
    assert b"healthy" in p
    _, flags, _, _, p = call(c, STATS)
    stats = json.loads(p)
    assert stats["peer"]["uid"] == os.getuid() and stats["peer"]["pid"] == os.getpid()
    _, _, _, _, p = call(c, MODEL_LIST)
    assert DIGITS_ID in [m["id"] for m in json.loads(p)]


def test_shared_memory_inference_and_region_checks(ipcd):
    if not requests.get(ipcd.url + "/models/mlos%2Fdigits%401.0.0").json()["model"]["status"] == "ready":
        pytest.skip("no engine")
    c = connect(ipcd)
    size = 1 << 16
    fd = sealed_memfd(size)
    _, flags, _, _, p = call(c, SHM_REG, s_("in") + struct.pack("<QB", size, 1), fds=[fd])
    assert not flags & FLAG_ERROR, p
    region = struct.unpack("<I", p)[0]
    import mmap
    mm = mmap.mmap(fd, size)
    x = np.array(HELDOUT["pixels"][:5], dtype=np.float32)
    mm[0:x.nbytes] = x.tobytes()
    # Outputs go into the same region at 32 KiB.
    req = s_(DIGITS_ID) + struct.pack("<I", 1) + shm_tensor("pixels", 5, region, 0) + \
        struct.pack("<BIQQ", 1, region, 32768, 32768)
    _, flags, _, _, p = call(c, INFER, req)
    assert not flags & FLAG_ERROR, p
    probs_off = None
    pos = 20
    n = struct.unpack_from("<I", p, 16)[0]
    for _ in range(n):
        ln = struct.unpack_from("<I", p, pos)[0]
        name = p[pos + 4:pos + 4 + ln].decode()
        pos += 4 + ln
        dt, rank = struct.unpack_from("<BB", p, pos)
        pos += 2 + 8 * rank
        loc, reg, off, nb = struct.unpack_from("<BIQQ", p, pos)
        pos += 21
        assert loc == 1 and reg == region and 32768 <= off and off + nb <= size
        if name == "probabilities":
            probs_off = (off, nb)
    probs = np.frombuffer(mm[probs_off[0]:probs_off[0] + probs_off[1]], dtype=np.float32)
    np.testing.assert_allclose(probs.reshape(5, 10), np.array(HELDOUT["probabilities"][:5]),
                               atol=1e-4)
    # Offsets and sizes outside the region, unknown regions, a window outside the region.
    for tensor, window, code in [
        (shm_tensor("pixels", 5, region, size - 100), b"\0", 4),
        (shm_tensor("pixels", 5, region, (1 << 64) - 64), b"\0", 4),
        (shm_tensor("pixels", 5, region + 9, 0), b"\0", 2),
        (shm_tensor("pixels", 5, region, 0), struct.pack("<BIQQ", 1, region, size - 8, 64), 4),
        (shm_tensor("pixels", 500, region, 0), b"\0", 4),
    ]:
        _, flags, status, _, p = call(c, INFER, s_(DIGITS_ID) + struct.pack("<I", 1) + tensor + window)
        assert flags & FLAG_ERROR and status == code, (status, p)
    _, flags, _, _, _ = call(c, SHM_UNREG, struct.pack("<I", region))
    assert not flags & FLAG_ERROR
    _, flags, status, _, _ = call(c, INFER, req)
    assert flags & FLAG_ERROR and status == 2  # the region is gone
    mm.close()
    os.close(fd)


def test_bad_fds_truncated_oversized_and_random_frames(ipcd):
    c = connect(ipcd)
    r, w = os.pipe()
    unsealed = os.memfd_create("u")
    os.ftruncate(unsealed, 4096)
    for fd in (r, unsealed, sealed_memfd(100)):
        _, flags, status, _, p = call(c, SHM_REG, s_("x") + struct.pack("<QB", 4096, 1), fds=[fd])
        assert flags & FLAG_ERROR, p
    _, flags, _, _, _ = call(c, SHM_REG, s_("x") + struct.pack("<QB", 4096, 1))  # no fd
    assert flags & FLAG_ERROR
    # Oversized: an error reply, then the connection closes.
    c2 = connect(ipcd)
    c2.sendall(struct.pack("<IHHIIQQ", MAGIC, 1, HEALTH, 0, 0, 9, 1 << 50))
    op, flags, status, rid, _ = reply(c2)
    assert flags & FLAG_ERROR and status == 7 and rid == 9
    assert reply(c2) is None
    # Truncated frames and random bytes.
    rng = np.random.default_rng(3)
    for i in range(40):
        c3 = connect(ipcd)
        data = frame(INFER, 1, bytes(rng.integers(0, 256, 300, dtype=np.uint8)))
        c3.sendall(data[: int(rng.integers(1, len(data)))] if i % 2 else
                   bytes(rng.integers(0, 256, 100, dtype=np.uint8)))
        c3.close()
    assert call(connect(ipcd), HEALTH)[1] & FLAG_ERROR == 0
    assert ipcd.alive()


def test_pipelined_and_64_concurrent_clients(ipcd):
    c = connect(ipcd)
    c.sendall(b"".join(frame(HEALTH, i) for i in range(1, 33)))
    assert [reply(c)[3] for _ in range(32)] == list(range(1, 33))
    errors = []

    def worker(i):
        try:
            s = connect(ipcd)
            for k in range(20):
                _, flags, _, rid, _ = call(s, HEALTH, rid=k + 1)
                assert not flags & FLAG_ERROR and rid == k + 1
            if i % 4 == 0:
                s.sendall(frame(INFER, 1, b"x" * 100)[:50])  # vanish mid-request
            s.close()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(64)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:3]
    assert ipcd.alive()


def run_py(code, env=None):
    e = dict(os.environ, PYTHONPATH=PYDIR, **(env or {}))
    return subprocess.run(["/usr/bin/python3", "-c", code], env=e, capture_output=True, text=True,
                          timeout=120)


def test_python_module_embedded_and_remote_identical(ipcd, tmp_path):
    if not os.path.isdir(os.path.join(PYDIR)) or not any(
            f.startswith("ml_llm_kernel_api") for f in os.listdir(PYDIR)):
        pytest.skip("ml_llm_kernel_api not built")
    code = f"""
import json, sys, numpy as np
sys.path.insert(0, {PYDIR!r})
import ml_llm_kernel_api as kernel
x = np.array(json.load(open({os.path.join(DIGITS_DIR, 'heldout.json')!r}))['pixels'][:7], dtype=np.float32)
res = {{}}
for name, api in (('embedded', kernel.KernelAPI()), ('remote', kernel.KernelAPI('unix://{ipcd.socket}'))):
    model = api.load_model({DIGITS_DIR!r})
    out = api.run_inference(model, x)
    out2 = api.run_inference(model, {{'pixels': x.tolist()}})
    big = np.tile(x, (300, 1))
    out3 = api.run_inference(model, big)
    buf = api.shared_memory_buffer(big.nbytes)
    arr = buf.array('float32', big.shape)
    arr[:] = big
    out4 = api.run_inference(model, arr)
    res[name] = (out, out2, out3, out4, api.is_remote, model.id)
e, r = res['embedded'], res['remote']
assert e[4] is False and r[4] is True and r[5] == {DIGITS_ID!r}, (e[4], r[4], r[5])
for a, b in zip(e[:4], r[:4]):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
        assert np.array_equal(a[k], b[k]), k
np.testing.assert_array_equal(e[2]['label'], r[3]['label'])
try:
    kernel.KernelAPI('unix:///nonexistent/mlos.sock')
    raise SystemExit('expected KernelError')
except kernel.KernelError:
    pass
print('IDENTICAL')
"""
    p = run_py(code)
    assert p.returncode == 0 and "IDENTICAL" in p.stdout, p.stdout + p.stderr


def test_seed_python_example_embedded_and_remote(ipcd):
    if not any(f.startswith("ml_llm_kernel_api") for f in os.listdir(PYDIR)):
        pytest.skip("ml_llm_kernel_api not built")
    ex = os.path.join(REPO, "examples", "python", "model_inference.py")
    env = dict(os.environ, PYTHONPATH=PYDIR)
    env.pop("MLOS_ENDPOINT", None)
    a = subprocess.run(["/usr/bin/python3", ex], env=env, capture_output=True, text=True, timeout=120)
    env["MLOS_ENDPOINT"] = "unix://" + ipcd.socket
    b = subprocess.run(["/usr/bin/python3", ex], env=env, capture_output=True, text=True, timeout=120)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout and "probabilities" in a.stdout
