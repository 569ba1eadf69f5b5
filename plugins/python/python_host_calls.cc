// The Python plugin host's inference and model-description entries.
#include <cstring>
#include <exception>

#include "plugins/python/python_host.h"
#include "plugins/smi_batch_loop.h"

namespace mlos::pyhost {
namespace {

constexpr size_t kMaxName = 1024;

size_t ElementSize(int32_t code) {
  switch (code) {
    case SMI_DTYPE_FLOAT32:
    case SMI_DTYPE_INT32:
    case SMI_DTYPE_UINT32:
      return 4;
    case SMI_DTYPE_UINT8:
    case SMI_DTYPE_INT8:
    case SMI_DTYPE_BOOL:
      return 1;
    case SMI_DTYPE_UINT16:
    case SMI_DTYPE_INT16:
    case SMI_DTYPE_FLOAT16:
    case SMI_DTYPE_BFLOAT16:
      return 2;
    case SMI_DTYPE_INT64:
    case SMI_DTYPE_UINT64:
    case SMI_DTYPE_FLOAT64:
      return 8;
    default:
      return 0;
  }
}

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

// Reads a (name, dtype_code, shape_tuple) triple; false with a Python error cleared otherwise.
bool ReadTriple(PyObject* item, std::string* name, int32_t* code, std::vector<int64_t>* shape) {
  if (!PyTuple_Check(item) || PyTuple_Size(item) < 3) return false;
  PyObject* n = PyTuple_GetItem(item, 0);
  if (!PyUnicode_Check(n)) return false;
  const char* s = PyUnicode_AsUTF8(n);
  if (s == nullptr || std::strlen(s) > kMaxName) return false;
  *name = s;
  *code = static_cast<int32_t>(PyLong_AsLong(PyTuple_GetItem(item, 1)));
  PyObject* sh = PyTuple_GetItem(item, 2);
  if (!PyTuple_Check(sh) || PyTuple_Size(sh) > SMI_MAX_DIMS) return false;
  shape->clear();
  for (Py_ssize_t i = 0; i < PyTuple_Size(sh); ++i) {
    shape->push_back(PyLong_AsLongLong(PyTuple_GetItem(sh, i)));
  }
  if (PyErr_Occurred()) {
    PyErr_Clear();
    return false;
  }
  return true;
}

}  // namespace

smi_status_t PyInference(smi_model_handle_t handle, const void* input, size_t input_size,
                         void* output, size_t* output_size) {
  return Guarded("inference", [&]() -> smi_status_t {
    auto* m = static_cast<PyModel*>(handle);
    if (m == nullptr || output_size == nullptr || (input == nullptr && input_size > 0)) {
      return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
    }
    const std::string_view request(static_cast<const char*>(input), input_size);
    std::string reply;
    bool have_reply = false;
    {
      std::lock_guard<std::mutex> lock(m->mu);
      auto it = m->pending.find(std::this_thread::get_id());
      if (it != m->pending.end()) {
        if (it->second.first == request) {
          reply = std::move(it->second.second);
          have_reply = true;
        }
        m->pending.erase(it);
      }
    }
    if (!have_reply) {
      Gil gil;
      PyObject* value = nullptr;
      PyObject* data = PyBytes_FromStringAndSize(static_cast<const char*>(input),
                                                 static_cast<Py_ssize_t>(input_size));
      PyObject* args = data != nullptr ? Py_BuildValue("(ON)", m->handle, data) : nullptr;
      smi_status_t rc = CallBridge("inference", args, &value);
      if (rc != SMI_SUCCESS) return rc;
      char* bytes = nullptr;
      Py_ssize_t n = 0;
      if (!PyBytes_Check(value) || PyBytes_AsStringAndSize(value, &bytes, &n) != 0) {
        Py_DECREF(value);
        PyErr_Clear();
        return Fail(SMI_ERROR_RUNTIME, "inference: the bridge did not return bytes");
      }
      reply.assign(bytes, static_cast<size_t>(n));
      Py_DECREF(value);
    }
    if (reply.size() > *output_size) {
      *output_size = reply.size();
      std::lock_guard<std::mutex> lock(m->mu);
      m->pending[std::this_thread::get_id()] = {std::string(request), std::move(reply)};
      return SMI_ERROR_BUFFER_TOO_SMALL;
    }
    if (!reply.empty()) std::memcpy(output, reply.data(), reply.size());
    *output_size = reply.size();
    return SMI_SUCCESS;
  });
}

smi_status_t PyBatchInference(smi_model_handle_t handle, const void* const* inputs,
                              const size_t* input_sizes, size_t batch_size, void** outputs,
                              size_t* output_sizes) {
  return plugins::BatchAsSingleInferences(&PyInference, &Fail, handle, inputs, input_sizes,
                                          batch_size, outputs, output_sizes);
}

smi_status_t PyTensorInference(smi_model_handle_t handle, const smi_tensor_t* inputs,
                               size_t num_inputs, const smi_output_sink_t* sink) {
  return Guarded("tensor_inference", [&]() -> smi_status_t {
    auto* m = static_cast<PyModel*>(handle);
    if (m == nullptr || sink == nullptr || (inputs == nullptr && num_inputs > 0)) {
      return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
    }
    Gil gil;
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(num_inputs));
    if (list == nullptr) return Fail(SMI_ERROR_OUT_OF_MEMORY, FetchPythonError());
    for (size_t i = 0; i < num_inputs; ++i) {
      const smi_tensor_t& t = inputs[i];
      PyObject* shape = PyTuple_New(t.ndim);
      for (uint32_t d = 0; d < t.ndim && shape != nullptr; ++d) {
        PyTuple_SetItem(shape, d, PyLong_FromLongLong(t.shape[d]));
      }
      // A read-only view of the caller's bytes: no copy; valid during this call only.
      static char empty = 0;
      PyObject* mem =
          PyMemoryView_FromMemory(t.data != nullptr ? static_cast<char*>(t.data) : &empty,
                                  static_cast<Py_ssize_t>(t.data_size), PyBUF_READ);
      PyObject* item = (shape != nullptr && mem != nullptr)
                           ? Py_BuildValue("(siNN)", t.name ? t.name : "", t.dtype, shape, mem)
                           : nullptr;
      if (item == nullptr) {
        Py_DECREF(list);
        return Fail(SMI_ERROR_INVALID_PARAM, "bad input tensor: " + FetchPythonError());
      }
      PyList_SetItem(list, static_cast<Py_ssize_t>(i), item);
    }
    PyObject* value = nullptr;
    smi_status_t rc =
        CallBridge("tensor_inference", Py_BuildValue("(ON)", m->handle, list), &value);
    if (rc != SMI_SUCCESS) return rc;
    if (!PyList_Check(value)) {
      Py_DECREF(value);
      return Fail(SMI_ERROR_RUNTIME, "tensor_inference: the bridge returned no output list");
    }
    rc = SMI_SUCCESS;
    for (Py_ssize_t i = 0; i < PyList_Size(value) && rc == SMI_SUCCESS; ++i) {
      PyObject* item = PyList_GetItem(value, i);
      std::string name;
      int32_t code = 0;
      std::vector<int64_t> shape;
      if (!ReadTriple(item, &name, &code, &shape) || PyTuple_Size(item) != 4) {
        rc = Fail(SMI_ERROR_RUNTIME, "tensor_inference: malformed output entry");
        break;
      }
      Py_buffer view;
      if (PyObject_GetBuffer(PyTuple_GetItem(item, 3), &view, PyBUF_C_CONTIGUOUS) != 0) {
        rc = Fail(SMI_ERROR_RUNTIME, "output '" + name + "': " + FetchPythonError());
        break;
      }
      size_t want = ElementSize(code);
      for (int64_t d : shape) want *= static_cast<size_t>(d < 0 ? 0 : d);
      if (want != static_cast<size_t>(view.len)) {
        PyBuffer_Release(&view);
        rc = Fail(SMI_ERROR_RUNTIME, "output '" + name + "' has the wrong byte size");
        break;
      }
      void* dst = sink->allocate(sink->ctx, name.c_str(), code, shape.data(),
                                 static_cast<uint32_t>(shape.size()));
      if (dst == nullptr) {
        rc = SMI_ERROR_INVALID_PARAM;  // the host recorded why
      } else if (view.len > 0) {
        std::memcpy(dst, view.buf, static_cast<size_t>(view.len));
      }
      PyBuffer_Release(&view);
    }
    Py_DECREF(value);
    return rc;
  });
}

smi_status_t PyGetModelInfo(smi_model_handle_t handle, smi_model_info_t* info) {
  return Guarded("get_model_info", [&]() -> smi_status_t {
    auto* m = static_cast<PyModel*>(handle);
    if (m == nullptr || info == nullptr) return Fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
    Gil gil;
    PyObject* value = nullptr;
    smi_status_t rc = CallBridge("get_model_info", Py_BuildValue("(O)", m->handle), &value);
    if (rc != SMI_SUCCESS) return rc;
    if (value == Py_None) {
      Py_DECREF(value);
      return SMI_SUCCESS;  // nothing declared
    }
    m->names.clear();
    m->shapes.clear();
    m->inputs.clear();
    m->outputs.clear();
    std::vector<std::pair<int, size_t>> order;  // (table, index into names)
    for (int table = 0; table < 2; ++table) {
      PyObject* list = PyTuple_Check(value) && PyTuple_Size(value) == 2
                           ? PyTuple_GetItem(value, table)
                           : nullptr;
      if (list == nullptr || !PyList_Check(list)) {
        Py_DECREF(value);
        return Fail(SMI_ERROR_RUNTIME, "get_model_info: malformed tables");
      }
      for (Py_ssize_t i = 0; i < PyList_Size(list); ++i) {
        std::string name;
        int32_t code = 0;
        std::vector<int64_t> shape;
        if (!ReadTriple(PyList_GetItem(list, i), &name, &code, &shape)) {
          Py_DECREF(value);
          return Fail(SMI_ERROR_RUNTIME, "get_model_info: malformed entry");
        }
        m->names.push_back(std::move(name));
        m->shapes.push_back(std::move(shape));
        smi_tensor_desc_t d{nullptr, code, static_cast<uint32_t>(m->shapes.back().size()), nullptr};
        (table == 0 ? m->inputs : m->outputs).push_back(d);
      }
    }
    Py_DECREF(value);
    // Point the descriptors at the now-stable strings and shapes.
    size_t k = 0;
    for (auto* table : {&m->inputs, &m->outputs}) {
      for (auto& d : *table) {
        d.name = m->names[k].c_str();
        d.shape = m->shapes[k].data();
        ++k;
      }
    }
    if (info->struct_size >= offsetof(smi_model_info_t, outputs) + sizeof(void*)) {
      info->num_inputs = static_cast<uint32_t>(m->inputs.size());
      info->num_outputs = static_cast<uint32_t>(m->outputs.size());
      info->inputs = m->inputs.data();
      info->outputs = m->outputs.data();
    }
    return SMI_SUCCESS;
  });
}

}  // namespace mlos::pyhost
