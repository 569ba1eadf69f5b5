"""Training sessions end to end through the real daemon (issue 7): the torch plugin from the build
tree trains TorchScript models made here with Debian's PyTorch, driven over HTTP (with the
server-sent events), the Python module (over the daemon's Unix socket and embedded) and mlosctl.

  * the digits MLP reaches >= 95% validation accuracy, with live SSE events observed;
  * a character-level transformer LM on /usr/share/common-licenses/GPL-3 reaches the loss that
    tests/unit/training/charlm_test.cc documents (kLmTargetLoss = 2.5 nats/char);
  * pausing and resuming twice, and kill -9 (or SIGTERM) of the daemon with a restart on the
    same data dir, end with the parameters of an uninterrupted run with the same seed (state dicts compared
    with torch);
  * register_as registers the finished model, and it serves inference equal to torch's;
  * POST /training/sessions answers before the model and data are loaded (state "starting");
    pause and stop apply once loaded; stop, pause and resume of an ended session are 409;
  * bad requests get 4xx and the daemon stays up."""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import requests

from conftest import BINARY, BUILD, REPO, Daemon, free_port

PLUGINS = os.path.join(BUILD, "plugins")
TORCH_PLUGIN = os.path.join(PLUGINS, "libmlos_torch.so")
MLOSCTL = os.path.join(BUILD, "mlosctl")
PYDIR = os.path.join(BUILD, "python")
CORPUS = "/usr/share/common-licenses/GPL-3"  # Debian's base-files
LM_TARGET_LOSS = 2.5  # tests/unit/training/charlm_test.cc kLmTargetLoss (nats per character)
TERMINAL = ("completed", "stopped", "failed")
LIVE = ("starting", "running", "paused")

pytestmark = pytest.mark.skipif(not os.path.exists(TORCH_PLUGIN),
                                reason="libmlos_torch.so not built (libtorch-dev missing)")

# The digits MLP as docs/TRAINING.md trains it (tests/unit/training/training_test.cc).
DIGITS_CONFIG = {"optimizer": "adam", "learning_rate": 3e-3, "batch_size": 32, "epochs": 25,
                 "schedule": "cosine", "validation_split": 0.2, "threads": 1, "seed": 42}
# A longer run for pause/resume and kill -9: long enough (~2-4 s) to interrupt twice.
LONG_CONFIG = {"optimizer": "adam", "learning_rate": 3e-3, "batch_size": 32, "max_steps": 6000,
               "validation_split": 0.2, "threads": 1, "seed": 42, "checkpoint_interval": 500}


class TrainingDaemon(Daemon):
    """conftest's Daemon with the build tree's plugins and (optionally) the IPC socket."""

    def __init__(self, tmp_path, ipc=False, **kw):
        super().__init__(tmp_path, **kw)
        self.socket = os.path.join(tempfile.mkdtemp(prefix="mlos-train-"), "mlos.sock") if ipc \
            else None

    def start(self, port=None):
        self.port = port or free_port()
        args = [BINARY, "--http-port", str(self.port), "--data-dir", self.data_dir,
                "--models-dir", self.models_dir, "--no-grpc", "--plugins-dir", PLUGINS]
        args += ["--socket", self.socket] if self.socket else ["--no-ipc"]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args + self.extra_args, stdout=self.log, stderr=self.log,
                                     env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlos_core exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200 and \
                        (not self.socket or os.path.exists(self.socket)):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("mlos_core did not start:\n" + self.logs())


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """digits.csv + mlp.pt and charlm.pt (bench/training/models.py), written with torch."""
    out = tmp_path_factory.mktemp("training-data")
    sys.path.insert(0, os.path.join(REPO, "bench", "training"))
    try:
        import models  # bench/training/models.py
        models.write_digits(str(out))
        models.write_charlm(str(out), CORPUS)
    finally:
        sys.path.pop(0)
    return out


@pytest.fixture(scope="module")
def td(tmp_path_factory):
    d = TrainingDaemon(tmp_path_factory.mktemp("traind"), ipc=True).start()
    yield d
    assert d.alive(), "the daemon died during the module:\n" + d.logs()
    assert d.stop() == 0, d.logs()


def start(d, data, config, model="mlp.pt", dataset="digits.csv", **extra):
    body = {"model": str(data / model) if not os.path.isabs(model) else model,
            "dataset": str(data / dataset) if not os.path.isabs(dataset) else dataset,
            "config": config, **extra}
    r = d.post("/training/sessions", json=body)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["id"] and s["state"] in ("starting", "running", "completed"), s
    assert r.headers["Location"] == "/training/sessions/" + s["id"]
    return s["id"]


def status(d, sid):
    r = d.get("/training/sessions/" + sid)
    assert r.status_code == 200, r.text
    return r.json()


def wait(d, sid, timeout=300, until=lambda s: s["state"] in TERMINAL):
    deadline = time.time() + timeout
    while True:
        s = status(d, sid)
        if until(s):
            return s
        assert s["state"] != "failed", s
        assert time.time() < deadline, f"timed out waiting on {sid}: {s}\n{d.logs()}"
        time.sleep(0.02)


def params(path):
    import torch
    return {k: v.detach().clone() for k, v in torch.jit.load(path).state_dict().items()}


def assert_same_params(a, b, atol=1e-6):
    import torch
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=0, atol=atol), \
            f"{k}: max diff {(a[k] - b[k]).abs().max().item()}"


@pytest.fixture(scope="module")
def reference(td, data):
    """LONG_CONFIG run without interruption: the parameters the others must end with."""
    sid = start(td, data, LONG_CONFIG)
    s = wait(td, sid)
    assert s["state"] == "completed", s
    assert s["step"] == 6000
    return params(s["output_path"])


def test_digits_mlp_reaches_95_percent_with_sse_events(td, data):
    sid = start(td, data, DIGITS_CONFIG)
    events = []
    with requests.get(td.url + f"/training/sessions/{sid}/events", stream=True, timeout=120) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[6:])))
    kinds = [e for e, _ in events]
    assert kinds[-1] == "end" and kinds.count("end") == 1, kinds
    assert "status" in kinds, "no live status event before the end"
    steps = [s["step"] for _, s in events]
    assert steps == sorted(steps), steps
    final = events[-1][1]
    assert final == status(td, sid) or final["state"] == "completed"
    assert final["state"] == "completed", final
    assert final["epoch"] == 25 and final["step"] == final["total_steps"] == 1125
    assert final["val_samples"] == 359
    assert final["val_accuracy"] >= 0.95, final
    assert final["samples_per_second"] > 0
    assert os.path.exists(final["output_path"])


@pytest.mark.slow
def test_char_transformer_reaches_documented_loss(td, data):
    config = {"optimizer": "adamw", "learning_rate": 6e-3, "schedule": "cosine",
              "warmup_steps": 10, "batch_size": 16, "max_steps": 160, "context_length": 64,
              "dataset_format": "text", "validation_split": 0.1, "eval_interval": 160,
              "threads": 1, "seed": 3}
    t0 = time.monotonic()
    sid = start(td, data, config, model="charlm.pt", dataset=CORPUS)
    print(f"char transformer: POST /training/sessions answered in "
          f"{(time.monotonic() - t0) * 1000:.1f} ms")
    s = wait(td, sid, timeout=600)
    assert s["state"] == "completed", s
    assert s["has_validation"]
    print(f"char transformer: val_loss {s['val_loss']:.4f} (target {LM_TARGET_LOSS}), "
          f"{s['samples_per_second']:.0f} samples/s")
    assert s["val_loss"] <= LM_TARGET_LOSS, s


def test_pause_resume_twice_matches_uninterrupted_run(td, data, reference):
    sid = start(td, data, LONG_CONFIG)
    for at in (1500, 3500):
        wait(td, sid, until=lambda s: s["step"] >= at or s["state"] in TERMINAL)
        r = td.post(f"/training/sessions/{sid}/pause")
        assert r.status_code == 200, f"pause at ~{at}: {r.status_code} {r.text}"
        assert r.json()["state"] == "paused"
        # Paused means no progress, and pausing again is harmless.
        time.sleep(0.3)
        a = status(td, sid)
        time.sleep(0.3)
        b = status(td, sid)
        assert a["state"] == b["state"] == "paused" and a["step"] == b["step"] < 6000, (a, b)
        r = td.post(f"/training/sessions/{sid}/resume")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "running"
    s = wait(td, sid)
    assert s["state"] == "completed" and s["step"] == 6000, s
    assert_same_params(params(s["output_path"]), reference)
    # A finished session cannot be paused, resumed or stopped: 409 naming its state.
    for action in ("pause", "resume", "stop"):
        r = td.post(f"/training/sessions/{sid}/{action}")
        assert r.status_code == 409 and "completed" in r.json()["error"], (action, r.text)


@pytest.mark.parametrize("how", ["kill9", "sigterm"])
def test_daemon_restart_mid_run_resumes_from_checkpoint(tmp_path, data, reference, how):
    """kill -9 (or a graceful stop) mid-run; the restarted daemon continues the session from
    its newest checkpoint to the parameters of the uninterrupted run."""
    d = TrainingDaemon(tmp_path).start()
    try:
        sid = start(d, data, LONG_CONFIG)
        s = wait(d, sid, until=lambda s: (s["checkpoints"] and s["step"] >= 1500)
                 or s["state"] in TERMINAL)
        assert s["state"] == "running", f"finished before the kill: {s}"
        if how == "kill9":
            d.kill9()
        else:
            assert d.stop() == 0, d.logs()  # SIGTERM: exits 0, sessions stay resumable
        ckpt_dir = os.path.dirname(s["checkpoints"][0]["path"])
        before = sorted(os.listdir(ckpt_dir))
        assert before, "no checkpoint on disk after kill -9"
        newest = max(int(f[5:17]) for f in before if f.endswith(".mlosckpt"))
        d.start()
        # It continues from the newest checkpoint, not from step 0: every step seen in the
        # first moments after the restart is at or past it.
        early = []
        t0 = time.time()
        while time.time() - t0 < 0.3:
            early.append(status(d, sid))
            time.sleep(0.01)
        assert all(e["state"] in ("starting", "running", "completed") for e in early), early[-1]
        assert min(e["step"] for e in early) >= newest, ([e["step"] for e in early], newest)
        s = wait(d, sid)
        assert s["state"] == "completed" and s["step"] == 6000, s
        # No checkpoint written before the kill was lost.
        after = set(os.listdir(ckpt_dir))
        assert set(f for f in before if f.endswith(".mlosckpt")) <= after
        assert_same_params(params(s["output_path"]), reference)
    finally:
        if d.alive():
            d.stop()


def test_register_as_serves_the_trained_model(td, data):
    import torch
    sid = start(td, data, dict(DIGITS_CONFIG, epochs=5), register_as="digits-trained")
    s = wait(td, sid)
    assert s["state"] == "completed", s
    deadline = time.time() + 30
    while not s["registered_model"] and time.time() < deadline:
        time.sleep(0.05)
        s = status(td, sid)
    assert s["registered_model"].endswith("digits-trained@1.0.0") or \
        "digits-trained@" in s["registered_model"], s
    r = td.get("/models/" + requests.utils.quote(s["registered_model"], safe=""))
    assert r.status_code == 200, r.text
    assert r.json()["model"]["status"] == "ready"
    x = np.loadtxt(data / "digits.csv", delimiter=",", dtype=np.float32)[:8, :64]
    name = s["registered_model"].split("@")[0].split("/")[-1]
    r = td.post(f"/v2/models/{name}/infer",
                json={"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                                  "data": x.ravel().tolist()}]})
    assert r.status_code == 200, r.text
    out = np.array(r.json()["outputs"][0]["data"], dtype=np.float32).reshape(8, 10)
    want = torch.jit.load(s["output_path"])(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
    # A second run registers the next version.
    sid2 = start(td, data, dict(DIGITS_CONFIG, epochs=1), register_as="digits-trained")
    s2 = wait(td, sid2, until=lambda s: s["registered_model"] or s["state"] == "failed")
    assert s2["registered_model"] != s["registered_model"], (s, s2)


def test_python_module_over_the_socket(td, data):
    sys.path.insert(0, PYDIR)
    try:
        import ml_llm_kernel_api as kernel
    finally:
        sys.path.pop(0)
    api = kernel.KernelAPI("unix://" + td.socket)
    config = dict(DIGITS_CONFIG)
    epochs = config.pop("epochs")
    sid = api.start_training(str(data / "mlp.pt"), str(data / "digits.csv"), config,
                             epochs=epochs)
    assert api.wait_training(sid, 120)
    s = api.get_training_status(sid)
    assert isinstance(s, dict) and s["id"] == sid and s["state"] == "completed", s
    assert s["val_accuracy"] >= 0.95
    assert status(td, sid)["step"] == s["step"]  # the same session HTTP sees
    assert sid in [x["id"] for x in api.list_training()]
    assert api.pause_training(sid) is False  # finished: not pausable
    assert api.resume_training(sid) is False
    with pytest.raises(kernel.KernelError, match="train-424242"):
        api.pause_training("train-424242")
    with pytest.raises(kernel.KernelError, match="epoch"):
        api.start_training(str(data / "mlp.pt"), str(data / "digits.csv"), {"epoch": 3})
    with pytest.raises(kernel.KernelError):
        api.start_training(str(data / "mlp.pt"), str(data / "digits.csv"), "[1, 2]")
    # Pause, resume and stop a live run from Python.
    sid = api.start_training(str(data / "mlp.pt"), str(data / "digits.csv"), LONG_CONFIG)
    assert api.pause_training(sid) is True
    assert api.get_training_status(sid)["state"] == "paused"
    assert api.resume_training(sid) is True
    assert api.stop_training(sid) is True
    assert api.wait_training(sid, 60)
    assert api.get_training_status(sid)["state"] == "stopped"
    assert api.stop_training(sid) is False  # already stopped: refused, no exception


def test_python_module_embedded(tmp_path, data):
    script = f"""
import json, ml_llm_kernel_api as kernel
api = kernel.KernelAPI()
assert not api.is_remote
sid = api.start_training({str(data / 'mlp.pt')!r}, {str(data / 'digits.csv')!r},
                         {json.dumps(DIGITS_CONFIG)})
assert api.wait_training(sid, 300)
print(json.dumps(api.get_training_status(sid)))
"""
    env = dict(os.environ, PYTHONPATH=PYDIR, MLOS_DATA_DIR=str(tmp_path / "embedded"),
               MLOS_PLUGINS_DIR=PLUGINS)
    env.pop("MLOS_ENDPOINT", None)
    p = subprocess.run(["/usr/bin/python3", "-c", script], env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    s = json.loads(p.stdout.strip().splitlines()[-1])
    assert s["state"] == "completed" and s["val_accuracy"] >= 0.95, s
    assert s["output_path"].startswith(str(tmp_path / "embedded"))


def test_mlosctl_train_detach_status_and_follow(td, data):
    base = [MLOSCTL, "train"]
    ep = ["--endpoint", td.url]
    p = subprocess.run(base + [str(data / "mlp.pt"), str(data / "digits.csv"), "--set",
                               "epochs=3", "--set", "optimizer=sgd", "--set", "seed=5",
                               "--detach"] + ep, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    sid = p.stdout.strip()
    assert sid.startswith("train-"), p.stdout
    s = wait(td, sid)
    assert s["state"] == "completed" and s["epoch"] == 3, s
    p = subprocess.run(base + ["status", sid] + ep, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["id"] == sid
    # A config file, --set overriding it, followed to the end with plain lines (not a TTY).
    cfg = data / "cfg.json"
    cfg.write_text(json.dumps(dict(DIGITS_CONFIG, epochs=50)))
    p = subprocess.run(base + [str(data / "mlp.pt"), str(data / "digits.csv"), "--config",
                               str(cfg), "--set", "epochs=4"] + ep,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "completed" in p.stdout and "step 180/180" in p.stdout, p.stdout
    # Errors: an unknown session, a bad config key, a daemon that is not there.
    p = subprocess.run(base + ["pause", "train-999999"] + ep, capture_output=True, text=True)
    assert p.returncode == 1 and "404" in p.stderr, p.stderr
    p = subprocess.run(base + [str(data / "mlp.pt"), str(data / "digits.csv"), "--set",
                               "epoch=3"] + ep, capture_output=True, text=True)
    assert p.returncode == 1 and "epoch" in p.stderr, p.stderr
    p = subprocess.run(base + ["status", sid, "--endpoint", f"http://127.0.0.1:{free_port()}"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "connect" in p.stderr, p.stderr


def test_mlosctl_ctrl_c_detaches_without_stopping(td, data):
    import signal
    p = subprocess.Popen([MLOSCTL, "train", str(data / "mlp.pt"), str(data / "digits.csv"),
                          "--endpoint", td.url, "--set", "max_steps=200000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()  # "session train-N started ..."
    sid = first.split()[1]
    assert sid.startswith("train-"), first
    assert p.stdout.readline().startswith(sid)  # a first event line
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert f"detached; session {sid} keeps training" in out, out
    time.sleep(0.2)
    assert status(td, sid)["state"] == "running"
    r = subprocess.run([MLOSCTL, "train", "stop", sid, "--endpoint", td.url],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "stopped" in r.stdout, r.stdout + r.stderr
    assert wait(td, sid)["state"] == "stopped"
    r = td.post(f"/training/sessions/{sid}/stop")
    assert r.status_code == 409 and "stopped" in r.json()["error"], r.text


def test_start_answers_before_loading(td, data):
    """The POST does not wait for libtorch to load the model or for the data to be parsed: the
    session is "starting" (big.csv, the digits 120 times over, takes a while to parse here);
    a pause asked meanwhile leaves it paused at step 0 once loaded; a stop ends it untrained."""
    big = data / "big.csv"
    if not big.exists():
        text = (data / "digits.csv").read_text()
        header, body = text.split("\n", 1)
        big.write_text(header + "\n" + body * 120)
    config = dict(LONG_CONFIG, max_steps=50)
    t0 = time.monotonic()
    r = td.post("/training/sessions", json={"model": str(data / "mlp.pt"), "dataset": str(big),
                                            "config": config})
    elapsed = time.monotonic() - t0
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["state"] == "starting", r.json()
    print(f"POST /training/sessions with a {big.stat().st_size >> 20} MiB CSV: "
          f"{elapsed * 1000:.1f} ms")
    r = td.post(f"/training/sessions/{sid}/pause")
    assert r.status_code == 200 and r.json()["state"] == "paused", r.text
    s = wait(td, sid, until=lambda s: s["total_steps"] == 50)
    time.sleep(0.3)
    s = status(td, sid)
    assert s["state"] == "paused" and s["step"] == 0, s
    assert td.post(f"/training/sessions/{sid}/resume").status_code == 200
    s = wait(td, sid)
    assert s["state"] == "completed" and s["step"] == 50, s

    r = td.post("/training/sessions", json={"model": str(data / "mlp.pt"), "dataset": str(big),
                                            "config": config})
    assert r.status_code == 201 and r.json()["state"] == "starting", r.text
    sid = r.json()["id"]
    assert td.post(f"/training/sessions/{sid}/stop").status_code == 200
    s = wait(td, sid)
    assert s["state"] == "stopped" and s["step"] == 0, s
    assert td.post(f"/training/sessions/{sid}/stop").status_code == 409


def test_bad_requests_get_4xx_and_the_daemon_stays_up(td, data):
    mlp, csv = str(data / "mlp.pt"), str(data / "digits.csv")
    cases = [
        (b"", 400), (b"{", 400), (b"[]", 400), (b"null", 400),
        (json.dumps({"model": mlp}).encode(), 400),
        (json.dumps({"model": mlp, "dataset": csv, "colour": 1}).encode(), 400),
        (json.dumps({"model": mlp, "dataset": csv, "config": {"epochs": -1}}).encode(), 400),
        (json.dumps({"model": mlp, "dataset": csv, "config": {"optimizer": "x"}}).encode(), 400),
        (json.dumps({"model": mlp, "dataset": csv, "config": {"batch_size": "8"}}).encode(), 400),
        (json.dumps({"model": "/nonexistent.pt", "dataset": csv}).encode(), 404),
        (json.dumps({"model": mlp, "dataset": "/nonexistent.csv"}).encode(), 404),
    ]
    for body, code in cases:
        r = td.post("/training/sessions", data=body)
        assert r.status_code == code, (body, r.status_code, r.text)
        assert "error" in r.json()
    # A file that is not a TorchScript model: refused at once (not a zip archive).
    r = td.post("/training/sessions", json={"model": csv, "dataset": csv,
                                            "config": {"max_steps": 2}})
    assert r.status_code == 400 and "TorchScript" in r.json()["error"], r.text
    # A zip that is not TorchScript (no constants.pkl): refused at once too.
    npz = data / "not_a_model.npz"
    np.savez(npz, x=np.zeros(3))
    r = td.post("/training/sessions", json={"model": str(npz), "dataset": csv})
    assert r.status_code == 400 and "TorchScript" in r.json()["error"], r.text
    # A CSV only parsing finds wrong, a model whose output does not fit the data: accepted,
    # then failed on the session's thread with a readable error (no C++ backtrace).
    bad_csv = data / "bad_cells.csv"
    bad_csv.write_text("a,b,c\n1,2,3\n4,five,6\n")
    for model, dataset in ((mlp, str(bad_csv)), (str(data / "charlm.pt"), csv)):
        r = td.post("/training/sessions", json={"model": model, "dataset": dataset,
                                                "config": {"max_steps": 2}})
        assert r.status_code == 201, r.text
        s = wait(td, r.json()["id"], timeout=60,
                 until=lambda s: s["state"] not in LIVE)
        assert s["state"] == "failed" and s["error"], s
        assert "Exception raised from" not in s["error"] and "frame #" not in s["error"], s
    assert td.get("/training/sessions/train-999999").status_code == 404
    assert td.post("/training/sessions/train-999999/stop").status_code == 404
    assert td.get("/training/sessions/train-999999/events").status_code == 404
    assert td.post("/training/sessions/train-1/explode").status_code == 404
    assert td.delete("/training/sessions").status_code == 405
    assert td.get("/training/sessions/train-1/events?interval_ms=1").status_code == 400
    assert td.get("/health").status_code == 200
    assert td.alive()


def test_no_default_plugins_leaves_libtorch_out(daemon_factory, data):
    """conftest's daemons run with MLOS_NO_DEFAULT_PLUGINS=1: build/plugins (libmlos_torch.so)
    is not loaded, so training answers 503; with 0 the folder beside mlos_core is loaded."""
    def plugin_ids(d):
        return [p["id"] for p in d.get("/plugins").json()["plugins"]]

    body = {"model": str(data / "mlp.pt"), "dataset": str(data / "digits.csv")}
    d = daemon_factory(env={"MLOS_NO_DEFAULT_PLUGINS": "1"}).start()  # conftest's default
    assert "mlos-torch" not in plugin_ids(d)
    assert d.post("/training/sessions", json=body).status_code == 503
    assert d.stop() == 0
    d = daemon_factory(env={"MLOS_NO_DEFAULT_PLUGINS": "0"}).start()
    assert "mlos-torch" in plugin_ids(d)
    assert d.stop() == 0
