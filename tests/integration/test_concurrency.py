"""32+ concurrent clients mixing reads, inference and registrations; nothing is lost."""
import os
import threading
import urllib.parse

import requests

import packages
from conftest import DIGITS_DIR, DIGITS_ID

import json

HELDOUT = json.load(open(os.path.join(DIGITS_DIR, "heldout.json")))


def test_48_concurrent_clients(daemon, tmp_path):
    engine = daemon.engine_ready()
    pkg = packages.write_package(tmp_path, "c", "m", "1", packages.bert_toy(), *packages.BERT_IO)
    errors = []
    enc = urllib.parse.quote(DIGITS_ID, safe="")

    def client(i):
        s = requests.Session()
        try:
            for k in range(15):
                r = s.get(daemon.url + "/health", timeout=30)
                assert r.status_code == 200
                if engine:
                    j = (i * 15 + k) % len(HELDOUT["labels"])
                    r = s.post(f"{daemon.url}/models/{enc}/inference?include_outputs=true",
                               json={"pixels": HELDOUT["pixels"][j]}, timeout=30)
                    assert r.status_code == 200, r.text
                    assert r.json()["outputs"]["label"] == [int(
                        max(range(10), key=lambda c: HELDOUT["probabilities"][j][c]))]
                else:
                    r = s.get(daemon.url + "/models", timeout=30)
                    assert r.status_code == 200
                if k == 7:
                    r = s.post(daemon.url + "/models/register", timeout=60,
                               json={"model_id": f"c/m@{i}", "path": pkg})
                    assert r.status_code == 200, r.text
                    r = s.post(daemon.url + "/models/register", data=b"{bad", timeout=30)
                    assert r.status_code == 400
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(f"client {i}: {e!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    listed = {m["id"] for m in daemon.get("/models").json()["models"]}
    assert {f"c/m@{i}" for i in range(48)} <= listed
    for i in range(48):
        assert daemon.delete(f"/models/c%2Fm%40{i}").status_code == 200
