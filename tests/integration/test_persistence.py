"""Registrations survive a graceful restart and a kill -9 (SQLite WAL in the data dir)."""
import os
import shutil
import signal

import packages


def _register_all(d, tmp_path):
    cache = tmp_path / "cache"
    pkg = packages.write_package(cache, "hf", "bert-toy", "latest", packages.bert_toy(),
                                 *packages.BERT_IO)
    bodies = [
        {"model_id": "hf/bert-toy@latest", "name": "bert-toy", "framework": "onnx",
         "execution_format": "onnx", "path": pkg, "description": "d",
         "manifest_path": os.path.join(pkg, "manifest.yaml")},
        {"model_id": "plain/onnx-file@2", "model_path": os.path.join(pkg, "model.onnx")},
    ]
    # A folder with only model.onnx, and a .axon archive verified against its sha256.
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(os.path.join(pkg, "model.onnx"), folder / "model.onnx")
    bodies.append({"model_id": "plain/folder@1", "path": str(folder)})
    arch = packages.axon_archive(str(tmp_path / "pkg.axon"), [
        ("manifest.yaml", open(os.path.join(pkg, "manifest.yaml"), "rb").read()
         .replace(b"name: bert-toy", b"name: archived").replace(b"version: latest",
                                                                   b"version: 3")),
        ("model.onnx", packages.bert_toy())])
    bodies.append({"path": arch, "sha256": packages.sha256_file(arch)})
    ids = []
    for b in bodies:
        r = d.post("/models/register", json=b)
        assert r.status_code == 200, (b, r.text)
        ids.append(r.json()["model_id"])
    assert "hf/archived@3" in ids
    return ids


def _ids(d):
    return {m["id"]: m for m in d.get("/models").json()["models"]}


def test_restart_and_kill9_keep_registrations(daemon_factory, tmp_path):
    d = daemon_factory().start()
    ids = _register_all(d, tmp_path)
    engine = d.engine_ready()
    before = _ids(d)
    assert set(ids) <= set(before)

    assert d.stop() == 0  # graceful
    d.start()
    after = _ids(d)
    assert set(ids) <= set(after)
    for i in ids:
        assert after[i]["path"] == before[i]["path"]
        assert after[i]["status"] == ("ready" if engine else "registered")

    # Unregister one, register another, then kill -9 right after the answers.
    assert d.delete("/models/plain%2Ffolder%401").status_code == 200
    r = d.post("/models/register", json={"model_id": "late/one@1",
                                         "model_path": before[ids[1]]["path"]})
    assert r.status_code == 200
    assert d.kill9() == -signal.SIGKILL
    d.start()
    after = _ids(d)
    assert "late/one@1" in after
    assert "plain/folder@1" not in after
    for i in ids:
        if i != "plain/folder@1":
            assert i in after, i
    if engine:
        r = d.post("/models/hf%2Farchived%403/inference?include_outputs=true",
                   json={"input_ids": [1, 2], "attention_mask": [1, 1], "token_type_ids": [0, 1]})
        assert r.status_code == 200 and r.json()["output"] == [1.0, 1002.0]
    assert os.path.exists(os.path.join(d.data_dir, "registry.db"))
    assert d.stop() == 0


def test_archive_sha256_mismatch_and_cleanup(daemon_factory, tmp_path):
    d = daemon_factory().start()
    arch = packages.axon_archive(str(tmp_path / "p.axon"), [("model.onnx", packages.bert_toy())])
    r = d.post("/models/register", json={"model_id": "a/b@1", "path": arch, "sha256": "0" * 64})
    assert r.status_code == 422 and "sha256" in r.json()["error"]
    # The expected hash can also come from a manifest beside the archive (Axon's cache).
    (tmp_path / "manifest.yaml").write_text(packages.manifest(
        "a", "b", "1", *packages.BERT_IO, package_sha="1" * 64))
    r = d.post("/models/register", json={"model_id": "a/b@1", "path": arch})
    assert r.status_code == 422
    (tmp_path / "manifest.yaml").write_text(packages.manifest(
        "a", "b", "1", *packages.BERT_IO, package_sha=packages.sha256_file(arch)))
    r = d.post("/models/register", json={"model_id": "a/b@1", "path": arch})
    assert r.status_code == 200, r.text
    pkg_dir = d.get("/models/a%2Fb%401").json()["model"]["package_dir"]
    assert pkg_dir.startswith(os.path.join(d.data_dir, "packages"))
    assert d.delete("/models/a%2Fb%401").status_code == 200
    assert not os.path.exists(pkg_dir)
    assert d.stop() == 0


def test_models_dir_scan(daemon_factory, tmp_path):
    models = tmp_path / "scan"
    packages.write_package(models, "hf", "scanned", "1.0", packages.bert_toy(), *packages.BERT_IO)
    packages.write_package(models, "hf", "scanned", "2.0", packages.bert_toy(), *packages.BERT_IO)
    (models / "junk").mkdir()
    d = daemon_factory(models_dir=models).start()
    ids = _ids(d)
    assert "hf/scanned@1.0" in ids and "hf/scanned@2.0" in ids
    # The family name resolves to the highest version.
    assert d.get("/models/hf%2Fscanned").json()["model"]["version"] == "2.0"
    assert d.stop() == 0
