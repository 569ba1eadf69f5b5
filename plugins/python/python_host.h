// The Python plugin host: an SMI plugin (libmlos_smi_python.so) that embeds CPython and routes
// every SMI call to a plugin written with mlos_smi. The MLOS host loads one private copy of this
// library per .py plugin, so the globals below are per plugin.
//
// Thread-safety: every entry takes the GIL, so the plugin declares itself thread-safe and the
// Python code runs one call at a time. Errors: a Python exception or a bad return value becomes
// an SMI error code with its message passed to host->set_error; nothing propagates as a C++
// exception (each entry catches everything).
#pragma once

#include <Python.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mlos/smi_spec.h"

namespace mlos::pyhost {

// Per-model state behind a handle.
struct PyModel {
  PyObject* handle = nullptr;  // the Python handle object (strong reference)
  // Descriptions of inputs/outputs, kept alive for get_model_info's pointers.
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<smi_tensor_desc_t> inputs;
  std::vector<smi_tensor_desc_t> outputs;
  // Replies whose buffer was too small, by thread, for the immediate retry.
  std::mutex mu;
  std::map<std::thread::id, std::pair<std::string, std::string>> pending;
};

struct HostState {
  const smi_host_api_t* host = nullptr;
  PyObject* bridge = nullptr;  // mlos_smi._Bridge over the user's plugin
  std::string name, version, frameworks;
  bool has_tensor_inference = false;
  bool has_inference = false;
};

HostState& State();

// Reports `message` through host->set_error and returns `code`.
smi_status_t Fail(smi_status_t code, const std::string& message);
// The pending Python exception as "Type: message", cleared.
std::string FetchPythonError();
// Calls bridge.<method>(*args) (args: a new reference or NULL, stolen). On SUCCESS stores the
// value (new reference) in *value when value is non-NULL. Reports errors. Needs the GIL.
smi_status_t CallBridge(const char* method, PyObject* args, PyObject** value);

// Entry points defined in python_host_calls.cc.
smi_status_t PyInference(smi_model_handle_t handle, const void* input, size_t input_size,
                         void* output, size_t* output_size);
smi_status_t PyBatchInference(smi_model_handle_t handle, const void* const* inputs,
                              const size_t* input_sizes, size_t batch_size, void** outputs,
                              size_t* output_sizes);
smi_status_t PyTensorInference(smi_model_handle_t handle, const smi_tensor_t* inputs,
                               size_t num_inputs, const smi_output_sink_t* sink);
smi_status_t PyGetModelInfo(smi_model_handle_t handle, smi_model_info_t* info);

// RAII for the GIL.
class Gil {
 public:
  Gil() : state_(PyGILState_Ensure()) {}
  ~Gil() { PyGILState_Release(state_); }
  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;

 private:
  PyGILState_STATE state_;
};

}  // namespace mlos::pyhost
