"""Plugins over HTTP, black-box: a plugin written outside the project against the installed
smi_spec.h alone builds, registers, serves inference and unloads; the seed's Python example runs
as written; version mismatches are refused with a clear message; faulty plugins are contained.

Uses the daemon fixtures of conftest.py (owned by the daemon's suite).
"""
import os
import subprocess
import textwrap

import requests

from conftest import REPO, BUILD

INCLUDE = os.path.join(REPO, "include")
EXAMPLES = os.path.join(REPO, "examples", "plugins")


def build_plugin(tmp_path, source, name, lang="c"):
    """Compiles a plugin like an outside author would: only the public header on the path."""
    src = tmp_path / (name + (".c" if lang == "c" else ".cc"))
    src.write_text(source)
    lib = tmp_path / ("lib" + name + ".so")
    cc = ["cc", "-std=c99"] if lang == "c" else ["c++", "-std=c++17"]
    subprocess.run(cc + ["-O2", "-shared", "-fPIC", "-Wall", "-Werror", "-I", INCLUDE,
                         str(src), "-o", str(lib)], check=True)
    return str(lib)


def quote(model_id):
    return requests.utils.quote(model_id, safe="")


def register_plugin(d, plugin_id, endpoint):
    """POST /plugins/register as issue 5 spells it."""
    return d.post("/plugins/register", json={"id": plugin_id, "name": plugin_id,
                                             "version": "1.0.0", "endpoint": endpoint})


def plugin_ids(d):
    return [p["id"] for p in d.get("/plugins").json()["plugins"]]


def test_external_c_plugin_builds_registers_serves_and_unloads(daemon, tmp_path):
    with open(os.path.join(EXAMPLES, "c", "scale_plugin.c")) as f:
        lib = build_plugin(tmp_path, f.read(), "ext_scale")
    r = register_plugin(daemon, "ext-scale", "file://" + lib)
    assert r.status_code == 200, r.text
    assert r.json()["plugin_id"] == "ext-scale"
    assert "ext-scale" in plugin_ids(daemon)

    model_file = tmp_path / "scale.txt"
    model_file.write_text("2 1\n")
    r = daemon.post("/models/register", json={"model_id": "test/scale@1.0.0",
                                              "path": str(model_file), "framework": "scale"})
    assert r.status_code == 200, r.text
    assert r.json()["plugin_id"] == "ext-scale"
    r = daemon.post("/models/" + quote("test/scale@1.0.0") + "/inference?include_outputs=true",
                    json={"x": [1.0, 2.0, -3.0]})
    assert r.status_code == 200, r.text
    assert r.json()["outputs"]["y"] == [3.0, 5.0, -5.0]

    # Unregistering the plugin: no new models, the loaded one keeps it until it goes.
    assert daemon.delete("/plugins/ext-scale").status_code == 200
    assert "ext-scale" not in plugin_ids(daemon)
    r = daemon.post("/models/" + quote("test/scale@1.0.0") + "/inference?include_outputs=true",
                    json={"x": [0.5]})
    assert r.status_code == 200, r.text
    assert r.json()["outputs"]["y"] == [2.0]
    assert daemon.delete("/models/" + quote("test/scale@1.0.0")).status_code == 200
    assert daemon.delete("/plugins/ext-scale").status_code == 404


MAJOR2 = textwrap.dedent("""
    #include <mlos/smi_spec.h>
    static smi_status_t run(smi_model_handle_t h, const void* i, size_t n, void* o, size_t* on) {
      (void)h; (void)i; (void)n; (void)o; *on = 0; return SMI_SUCCESS;
    }
    smi_plugin_t* smi_plugin_init(void) {
      static smi_plugin_t p = {{0}, "future", SMI_MAKE_VERSION(2, 0, 0), 0, 0, 0, 0};
      p.interface.inference = run;
      return &p;
    }
""")


def test_version_mismatch_is_refused_with_a_clear_message(daemon, tmp_path):
    lib = build_plugin(tmp_path, MAJOR2, "future")
    r = register_plugin(daemon, "future", "file://" + lib)
    assert 400 <= r.status_code < 500, r.text
    assert "built for SMI 2.0.0" in r.text and "major versions must be equal" in r.text
    assert "future" not in plugin_ids(daemon)


FAULTY = textwrap.dedent("""
    #include <mlos/smi_spec.h>
    #include <string.h>
    static const smi_host_api_t* host;
    static smi_status_t set_host(const smi_host_api_t* h) { host = h; return SMI_SUCCESS; }
    static smi_status_t lie(smi_model_handle_t h, const smi_tensor_t* in, size_t n,
                            const smi_output_sink_t* sink) {
      static const int64_t neg[1] = {-7};
      (void)h; (void)in; (void)n;
      /* a nonsense shape, then a bad pointer handed over as an output */
      if (sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, neg, 1) != 0) return SMI_SUCCESS;
      return sink->adopt(sink->ctx, "z", SMI_DTYPE_FLOAT32, (const int64_t*)8, 1, (void*)64, 0, 0);
    }
    static const int64_t dyn[1] = {-1};
    static const smi_tensor_desc_t x = {"x", SMI_DTYPE_FLOAT32, 1, dyn};
    static smi_status_t info(smi_model_handle_t h, smi_model_info_t* i) {
      (void)h;
      i->num_inputs = 1;
      i->inputs = &x;
      return SMI_SUCCESS;
    }
    static const smi_plugin_ext_t ext = {sizeof(smi_plugin_ext_t), 0, set_host, lie};
    smi_plugin_t* smi_plugin_init(void) {
      static smi_plugin_t p = {{0}, "liar", SMI_VERSION, 0, sizeof(smi_plugin_t), 0, &ext};
      p.interface.get_model_info = info;
      return &p;
    }
""")


def test_faulty_plugin_is_contained(daemon, tmp_path):
    lib = build_plugin(tmp_path, FAULTY, "liar")
    assert register_plugin(daemon, "liar", "file://" + lib).status_code == 200
    model_file = tmp_path / "m.bin"
    model_file.write_text("x")
    r = daemon.post("/models/register", json={"model_id": "test/liar@1", "path": str(model_file),
                                              "plugin_id": "liar"})
    assert r.status_code == 200, r.text
    for _ in range(3):
        r = daemon.post("/models/" + quote("test/liar@1") + "/inference", json={"x": [1.0]})
        assert 400 <= r.status_code < 600 and r.status_code != 200, r.text
        assert "plugin 'liar'" in r.text
    assert daemon.get("/health").status_code == 200
    assert daemon.delete("/models/" + quote("test/liar@1")).status_code == 200
    assert daemon.delete("/plugins/liar").status_code == 200


def test_seed_python_plugin_runs_as_written(daemon, tmp_path):
    script = os.path.join(EXAMPLES, "python", "my_ml_plugin.py")
    r = register_plugin(daemon, "my-python-plugin", "file://" + script)
    assert r.status_code == 200, r.text
    model_file = tmp_path / "m.txt"
    model_file.write_text("anything")
    r = daemon.post("/models/register", json={"model_id": "test/pyecho@1", "path": str(model_file),
                                              "plugin_id": "my-python-plugin"})
    assert r.status_code == 200, r.text
    r = daemon.post("/models/" + quote("test/pyecho@1") + "/inference?include_outputs=true",
                    json={"x": [1, 2, 3]})
    assert r.status_code == 200, r.text
    # The seed's plugin echoes the request bytes; the daemon returns them as "outputs".
    assert r.json()["outputs"] == {"x": [1, 2, 3]}
    assert daemon.delete("/models/" + quote("test/pyecho@1")).status_code == 200
    assert daemon.delete("/plugins/my-python-plugin").status_code == 200


def test_seed_c_plugin_runs_as_written(daemon):
    lib = os.path.join(BUILD, "examples", "plugins", "libmlos_example_seed.so")
    r = register_plugin(daemon, "", "file://" + lib)
    assert r.status_code == 200, r.text
    assert r.json()["plugin_id"] == "my-ml-plugin"
    r = daemon.post("/models/register", json={"model_id": "test/seed@1", "path": lib,
                                              "plugin_id": "my-ml-plugin"})
    assert r.status_code == 200, r.text
    r = daemon.post("/models/" + quote("test/seed@1") + "/inference", json={"text": "hello"})
    assert r.status_code == 200, r.text
    assert r.json()["outputs"] == {"TEXT": "HELLO"}
    assert daemon.delete("/models/" + quote("test/seed@1")).status_code == 200
    assert daemon.delete("/plugins/my-ml-plugin").status_code == 200


def test_python_plugin_error_is_a_clean_request_error(daemon, tmp_path):
    script = tmp_path / "raising_plugin.py"
    script.write_text(textwrap.dedent("""
        import mlos_smi
        class Raising(mlos_smi.Plugin):
            def get_model_info(self, handle):
                return {"inputs": [("x", "float32", [-1])], "outputs": [("y", "float32", [-1])]}
            def tensor_inference(self, handle, inputs):
                raise ValueError("the model is sad")
        mlos_smi.register_plugin(Raising())
    """))
    assert register_plugin(daemon, "raising", "file://" + str(script)).status_code == 200
    r = daemon.post("/models/register", json={"model_id": "test/raising@1", "path": str(script),
                                              "plugin_id": "raising"})
    assert r.status_code == 200, r.text
    r = daemon.post("/models/" + quote("test/raising@1") + "/inference", json={"x": [1.0]})
    assert r.status_code == 500, r.text
    assert "ValueError: the model is sad" in r.text
    assert daemon.get("/health").status_code == 200
    assert daemon.delete("/models/" + quote("test/raising@1")).status_code == 200
    assert daemon.delete("/plugins/raising").status_code == 200
