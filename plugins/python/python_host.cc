// The Python plugin host: interpreter start-up, the descriptor, and the lifecycle entries.
#include "plugins/python/python_host.h"

#include <dlfcn.h>

#include <exception>

namespace mlos::pyhost {
namespace {

// Runs `fn` (returning smi_status_t) and turns any C++ exception into SMI_ERROR_RUNTIME.
template <typename Fn>
smi_status_t Guarded(const char* entry, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Fail(SMI_ERROR_RUNTIME, std::string(entry) + ": " + e.what());
  } catch (...) {
    return Fail(SMI_ERROR_RUNTIME, std::string(entry) + ": unknown C++ exception");
  }
}

std::string StringAttr(PyObject* obj, const char* method) {
  PyObject* r = PyObject_CallMethod(obj, method, nullptr);
  std::string out;
  if (r != nullptr && PyUnicode_Check(r)) {
    const char* s = PyUnicode_AsUTF8(r);
    if (s != nullptr) out = s;
  }
  Py_XDECREF(r);
  PyErr_Clear();
  return out;
}

// Returns a new reference to dict[key] as str, or NULL.
std::string DictString(PyObject* dict, const char* key) {
  PyObject* v = PyDict_GetItemString(dict, key);  // borrowed
  if (v == nullptr || !PyUnicode_Check(v)) return "";
  const char* s = PyUnicode_AsUTF8(v);
  return s != nullptr ? s : "";
}

smi_status_t SetHost(const smi_host_api_t* host);
smi_status_t Initialize(const char* config);
smi_status_t Cleanup(void);
smi_status_t RegisterModel(const char* metadata, smi_model_handle_t* out_handle);
smi_status_t UnregisterModel(smi_model_handle_t handle);
smi_status_t LoadModel(smi_model_handle_t handle, const char* path);
smi_status_t UnloadModel(smi_model_handle_t handle);
smi_status_t AllocateResources(const char* resources);
smi_status_t DeallocateResources(void);
const char* Name(void) { return State().name.c_str(); }
const char* Version(void) { return State().version.c_str(); }
const char* Frameworks(void) { return State().frameworks.c_str(); }
uint32_t SmiVersion(void) { return SMI_VERSION; }

// Mutable: initialize clears tensor_inference when the Python plugin does not offer it (the
// host reads the extension table again after initialize, docs/SMI.md).
smi_plugin_ext_t g_ext = {sizeof(smi_plugin_ext_t), 0, &SetHost, &PyTensorInference};

smi_plugin_t g_plugin = {
    {&Initialize, &Cleanup, &RegisterModel, &UnregisterModel, &LoadModel, &UnloadModel,
     &PyInference, &PyBatchInference, &AllocateResources, &DeallocateResources, &PyGetModelInfo,
     &Name, &Version, &Frameworks, &SmiVersion},
    "python",
    SMI_VERSION,
    nullptr,
    sizeof(smi_plugin_t),
    SMI_PLUGIN_FLAG_THREAD_SAFE,
    &g_ext,
};

smi_status_t SetHost(const smi_host_api_t* host) {
  State().host = host;
  return SMI_SUCCESS;
}

smi_status_t Initialize(const char* config) {
  return Guarded("initialize", [&]() -> smi_status_t {
    if (config == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "config is NULL");
    // Extension modules (numpy) resolve CPython's symbols globally, but the MLOS host loads
    // plugins with RTLD_LOCAL: promote libpython, and pin it, since the interpreter is never
    // finalised (other copies of this host and numpy cannot survive a restart).
    if (dlopen("libpython3.11.so.1.0", RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE) == nullptr) {
      return Fail(SMI_ERROR_RUNTIME, "cannot load libpython3.11.so.1.0");
    }
    if (!Py_IsInitialized()) {
      Py_InitializeEx(0);
      PyEval_SaveThread();  // the GIL is taken per call from here on
    }
    Gil gil;
    HostState& st = State();
    PyObject* json = PyImport_ImportModule("json");
    if (json == nullptr) return Fail(SMI_ERROR_RUNTIME, "import json: " + FetchPythonError());
    PyObject* cfg = PyObject_CallMethod(json, "loads", "s", config);
    if (cfg == nullptr || !PyDict_Check(cfg)) {
      Py_XDECREF(cfg);
      Py_DECREF(json);
      return Fail(SMI_ERROR_INVALID_PARAM, "config must be a JSON object: " + FetchPythonError());
    }
    const std::string script = DictString(cfg, "script");
    const std::string python_path = DictString(cfg, "python_path");
    PyObject* user = PyDict_GetItemString(cfg, "config");  // borrowed
    PyObject* user_json = user != nullptr ? PyObject_CallMethod(json, "dumps", "O", user)
                                          : PyUnicode_FromString("{}");
    Py_DECREF(json);
    if (script.empty() || user_json == nullptr) {
      Py_DECREF(cfg);
      Py_XDECREF(user_json);
      return Fail(SMI_ERROR_INVALID_PARAM, "config needs \"script\": the plugin's .py file");
    }
    if (!python_path.empty()) {
      PyObject* sys_path = PySys_GetObject("path");  // borrowed
      PyObject* p = PyUnicode_FromString(python_path.c_str());
      if (sys_path != nullptr && p != nullptr && PySequence_Contains(sys_path, p) == 0) {
        PyList_Insert(sys_path, 0, p);
      }
      Py_XDECREF(p);
    }
    Py_DECREF(cfg);
    PyObject* mod = PyImport_ImportModule("mlos_smi");
    if (mod == nullptr) {
      Py_DECREF(user_json);
      return Fail(SMI_ERROR_RUNTIME, "import mlos_smi: " + FetchPythonError());
    }
    PyObject* bridge = PyObject_CallMethod(mod, "_host_load", "sO", script.c_str(), user_json);
    Py_DECREF(mod);
    Py_DECREF(user_json);
    if (bridge == nullptr) {
      return Fail(SMI_ERROR_RUNTIME, "loading " + script + ": " + FetchPythonError());
    }
    st.bridge = bridge;
    st.name = StringAttr(bridge, "name");
    st.version = StringAttr(bridge, "version");
    st.frameworks = StringAttr(bridge, "frameworks");
    auto flag = [&](const char* attr) {
      PyObject* v = PyObject_GetAttrString(bridge, attr);
      bool on = v != nullptr && PyObject_IsTrue(v) == 1;
      Py_XDECREF(v);
      PyErr_Clear();
      return on;
    };
    st.has_tensor_inference = flag("has_tensor_inference");
    st.has_inference = flag("has_inference");
    if (!st.has_tensor_inference) g_ext.tensor_inference = nullptr;
    smi_status_t rc = CallBridge("initialize", nullptr, nullptr);
    if (rc != SMI_SUCCESS) {
      Py_CLEAR(st.bridge);
    }
    return rc;
  });
}

smi_status_t Cleanup(void) {
  return Guarded("cleanup", [&]() -> smi_status_t {
    HostState& st = State();
    if (st.bridge == nullptr) return SMI_SUCCESS;
    Gil gil;
    smi_status_t rc = CallBridge("cleanup", nullptr, nullptr);
    Py_CLEAR(st.bridge);
    return rc;
  });
}

smi_status_t RegisterModel(const char* metadata, smi_model_handle_t* out_handle) {
  return Guarded("register_model", [&]() -> smi_status_t {
    if (metadata == nullptr || out_handle == nullptr) {
      return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
    }
    if (State().bridge == nullptr) return Fail(SMI_ERROR_RUNTIME, "plugin is not initialized");
    Gil gil;
    PyObject* value = nullptr;
    smi_status_t rc = CallBridge("register_model", Py_BuildValue("(s)", metadata), &value);
    if (rc != SMI_SUCCESS) return rc;
    auto* m = new PyModel();
    m->handle = value;  // owns the reference
    *out_handle = m;
    return SMI_SUCCESS;
  });
}

smi_status_t UnregisterModel(smi_model_handle_t handle) {
  return Guarded("unregister_model", [&]() -> smi_status_t {
    auto* m = static_cast<PyModel*>(handle);
    if (m == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL handle");
    Gil gil;
    smi_status_t rc = SMI_SUCCESS;
    if (State().bridge != nullptr) {
      rc = CallBridge("unregister_model", Py_BuildValue("(O)", m->handle), nullptr);
    }
    Py_XDECREF(m->handle);
    delete m;
    return rc;
  });
}

smi_status_t LoadModel(smi_model_handle_t handle, const char* path) {
  return Guarded("load_model", [&]() -> smi_status_t {
    auto* m = static_cast<PyModel*>(handle);
    if (m == nullptr || path == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
    Gil gil;
    return CallBridge("load_model", Py_BuildValue("(Os)", m->handle, path), nullptr);
  });
}

smi_status_t UnloadModel(smi_model_handle_t handle) {
  return Guarded("unload_model", [&]() -> smi_status_t {
    auto* m = static_cast<PyModel*>(handle);
    if (m == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL handle");
    Gil gil;
    return CallBridge("unload_model", Py_BuildValue("(O)", m->handle), nullptr);
  });
}

smi_status_t AllocateResources(const char* resources) {
  return Guarded("allocate_resources", [&]() -> smi_status_t {
    if (State().bridge == nullptr) return SMI_SUCCESS;
    Gil gil;
    return CallBridge("allocate_resources", Py_BuildValue("(s)", resources ? resources : "{}"),
                      nullptr);
  });
}

smi_status_t DeallocateResources(void) {
  return Guarded("deallocate_resources", [&]() -> smi_status_t {
    if (State().bridge == nullptr) return SMI_SUCCESS;
    Gil gil;
    return CallBridge("deallocate_resources", nullptr, nullptr);
  });
}

}  // namespace

HostState& State() {
  static HostState state;
  return state;
}

smi_status_t Fail(smi_status_t code, const std::string& message) {
  const smi_host_api_t* host = State().host;
  if (host != nullptr && host->set_error != nullptr) host->set_error(message.c_str());
  return code;
}

std::string FetchPythonError() {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  if (type == nullptr) return "unknown Python error";
  PyErr_NormalizeException(&type, &value, &tb);
  std::string out;
  PyObject* name = PyObject_GetAttrString(type, "__name__");
  if (name != nullptr && PyUnicode_Check(name)) out = PyUnicode_AsUTF8(name);
  Py_XDECREF(name);
  PyObject* str = value != nullptr ? PyObject_Str(value) : nullptr;
  if (str != nullptr && PyUnicode_Check(str)) {
    const char* s = PyUnicode_AsUTF8(str);
    if (s != nullptr && *s != '\0') out += std::string(": ") + s;
  }
  Py_XDECREF(str);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  PyErr_Clear();
  return out;
}

smi_status_t CallBridge(const char* method, PyObject* args, PyObject** value) {
  HostState& st = State();
  if (st.bridge == nullptr) {
    Py_XDECREF(args);
    return Fail(SMI_ERROR_RUNTIME, "plugin is not initialized");
  }
  if (args == nullptr && PyErr_Occurred()) {
    return Fail(SMI_ERROR_INVALID_PARAM, std::string(method) + ": " + FetchPythonError());
  }
  PyObject* fn = PyObject_GetAttrString(st.bridge, method);
  PyObject* r = nullptr;
  if (fn != nullptr) {
    r = args != nullptr ? PyObject_CallObject(fn, args) : PyObject_CallNoArgs(fn);
  }
  Py_XDECREF(fn);
  Py_XDECREF(args);
  if (r == nullptr) return Fail(SMI_ERROR_RUNTIME, std::string(method) + ": " + FetchPythonError());
  // (status, message, value)
  if (!PyTuple_Check(r) || PyTuple_Size(r) != 3) {
    Py_DECREF(r);
    return Fail(SMI_ERROR_RUNTIME, std::string(method) + ": the bridge returned a bad result");
  }
  const long code = PyLong_AsLong(PyTuple_GetItem(r, 0));
  if (PyErr_Occurred()) PyErr_Clear();
  if (code != SMI_SUCCESS) {
    PyObject* msg = PyTuple_GetItem(r, 1);
    std::string text = std::string(method) + " failed";
    if (msg != nullptr && PyUnicode_Check(msg)) {
      const char* s = PyUnicode_AsUTF8(msg);
      if (s != nullptr) text += std::string(": ") + s;
    }
    PyErr_Clear();
    Py_DECREF(r);
    return Fail(static_cast<smi_status_t>(code), text);
  }
  if (value != nullptr) {
    *value = PyTuple_GetItem(r, 2);
    Py_INCREF(*value);
  }
  Py_DECREF(r);
  return SMI_SUCCESS;
}

}  // namespace mlos::pyhost

extern "C" SMI_EXPORT smi_plugin_t* smi_plugin_init(void) { return &mlos::pyhost::g_plugin; }
