"""Black-box fixtures: start the real ./build/mlos_core on a free port with a temporary data dir.

The build folder comes from $MLOS_BUILD_DIR (set by ctest), else ./build. Every daemon runs with
--models-dir pointing at a private copy of the repository's models/ so tests never touch the
repository, and is stopped (SIGTERM, then SIGKILL) when its test ends. Daemons start with
MLOS_NO_DEFAULT_PLUGINS=1 (--no-default-plugins): they do not load build/plugins, so no libtorch
(start to /health 0.03-0.07 s instead of 0.7-1.1 s); test_training.py's daemons name --plugins-dir and get the torch plugin.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("MLOS_BUILD_DIR", os.path.join(REPO, "build"))
BINARY = os.path.join(BUILD, "mlos_core")
DIGITS_DIR = os.path.join(REPO, "models", "mlos", "digits", "1.0.0")
DIGITS_ID = "mlos/digits@1.0.0"
NO_ENGINE = ("inference needs the plugin host (CreatePluginHost from src/runtime/plugin_host_impl.cc "
             "with the onnx plugin) linked into mlos_core; this build has none")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, tmp_path, extra_args=(), env=None, models_dir=None, data_dir=None):
        self.data_dir = str(data_dir or tmp_path / "data")
        if models_dir is None:
            models_dir = tmp_path / "models"
            if not models_dir.exists():
                shutil.copytree(os.path.join(REPO, "models", "mlos"), models_dir / "mlos")
        self.models_dir = str(models_dir)
        self.extra_args = list(extra_args)
        # MLOS_NO_DEFAULT_PLUGINS=0 in the caller's environment gives every daemon the default
        # plugin folders again.
        self.env = {"MLOS_NO_DEFAULT_PLUGINS": "1", **os.environ, **(env or {})}
        self.log_path = str(tmp_path / f"daemon-{time.monotonic_ns()}.log")
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, port=None):
        self.port = port or free_port()
        args = [BINARY, "--http-port", str(self.port), "--data-dir", self.data_dir,
                "--models-dir", self.models_dir, "--no-grpc", "--no-ipc"] + self.extra_args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=self.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlos_core exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("mlos_core did not answer /health within 30 s:\n" + self.logs())

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.log.close()

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def alive(self):
        return self.proc.poll() is None

    def logs(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def get(self, path, **kw):
        kw.setdefault("timeout", 30)
        return requests.get(self.url + path, **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 60)
        return requests.post(self.url + path, **kw)

    def delete(self, path, **kw):
        kw.setdefault("timeout", 30)
        return requests.delete(self.url + path, **kw)

    def engine_ready(self):
        r = self.get("/models/" + requests.utils.quote(DIGITS_ID, safe=""))
        return r.status_code == 200 and r.json()["model"]["status"] == "ready"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long end-to-end runs (deselect with -m 'not slow')")


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    if not os.path.exists(BINARY):
        pytest.exit(f"{BINARY} not built (set MLOS_BUILD_DIR)", returncode=2)


@pytest.fixture
def daemon_factory(tmp_path):
    started = []

    def make(**kw):
        d = Daemon(tmp_path, **kw)
        started.append(d)
        return d

    yield make
    for d in started:
        if d.proc and d.proc.poll() is None:
            d.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """One daemon shared by the tests of a module (they must leave it as they found it)."""
    d = Daemon(tmp_path_factory.mktemp("daemon")).start()
    yield d
    assert d.alive(), "the daemon died during the module:\n" + d.logs()
    assert d.stop() == 0, d.logs()


@pytest.fixture
def engine(daemon):
    if not daemon.engine_ready():
        pytest.skip(NO_ENGINE)
    return daemon
