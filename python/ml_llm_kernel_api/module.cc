// ml_llm_kernel_api: the Python binding of KernelAPI (include/kernel_api.h).
//
//   import ml_llm_kernel_api as kernel
//   api = kernel.KernelAPI()                    # embedded; KernelAPI("unix:///run/mlos.sock")
//   model = api.load_model('/path/to/model')    # or MLOS_ENDPOINT=... for the daemon
//   output = api.run_inference(model, input_data)
//
// Arrays cross without copies where the layout allows (numpy buffers are viewed by tensors,
// results are numpy views of tensor storage); the GIL is released while C++ works.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>

#include "kernel_api.h"
#include "numpy_tensor.h"

namespace pyb = pybind11;
using namespace pybind11::literals;  // NOLINT

namespace mlos::py {
namespace {

// One KernelAPI plus the shared-memory regions it handed out (for zero-copy detection).
struct PyKernel {
  std::unique_ptr<KernelAPI> api;
  RegionIndex regions;
};

pyb::dict RunInference(PyKernel& k, const Model& model, const pyb::object& input_data) {
  if (!model.valid()) ThrowIfError(InvalidArgument("run_inference: empty model handle"));
  auto declared = [&](const std::string& name) -> int {
    for (const TensorInfo& t : model.inputs()) {
      if (t.name == name && t.dtype != DType::kString && t.dtype != DType::kBFloat16) {
        return static_cast<int>(t.dtype);
      }
    }
    return -1;
  };
  std::vector<NamedTensor> inputs;
  if (pyb::isinstance<pyb::dict>(input_data)) {
    for (auto item : pyb::reinterpret_borrow<pyb::dict>(input_data)) {
      std::string name = pyb::str(item.first);
      inputs.emplace_back(name, ToTensor(item.second, &k.regions, declared(name)));
    }
  } else {
    if (model.inputs().empty()) ThrowIfError(InvalidArgument("model declares no inputs"));
    const std::string& name = model.inputs()[0].name;
    inputs.emplace_back(name, ToTensor(input_data, &k.regions, declared(name)));
  }
  std::vector<NamedTensor> outputs;
  {
    pyb::gil_scoped_release nogil;
    outputs = k.api->run_inference(model, inputs);
    inputs.clear();  // drop the references to the arrays while we can still take the GIL
  }
  pyb::dict out;
  for (const auto& [name, t] : outputs) out[pyb::str(name)] = ToNumpy(t);
  return out;
}

// Training config from a dict (or a JSON string) plus keyword arguments, as JSON text.
std::string TrainingConfigJson(const pyb::object& config, const pyb::object& register_as,
                               const pyb::object& register_version, const pyb::kwargs& kwargs) {
  pyb::module_ json = pyb::module_::import("json");
  pyb::dict merged;
  if (pyb::isinstance<pyb::str>(config)) {
    pyb::object parsed = json.attr("loads")(config);
    if (!pyb::isinstance<pyb::dict>(parsed)) {
      ThrowIfError(InvalidArgument("start_training: config must be a dict or a JSON object"));
    }
    merged = pyb::dict(parsed);
  } else if (pyb::isinstance<pyb::dict>(config)) {
    merged = pyb::dict(config);  // a copy: the caller's dict is left alone
  } else if (!config.is_none()) {
    ThrowIfError(InvalidArgument("start_training: config must be a dict or a JSON string, not ",
                                 std::string(pyb::str(config.get_type().attr("__name__")))));
  }
  for (auto item : kwargs) merged[item.first] = item.second;
  if (!register_as.is_none()) merged["register_as"] = register_as;
  if (!register_version.is_none()) merged["register_version"] = register_version;
  return json.attr("dumps")(merged).cast<std::string>();
}

pyb::object FromJson(const std::string& text) {
  return pyb::module_::import("json").attr("loads")(text);
}

pyb::list Infos(const std::vector<TensorInfo>& ts) {
  pyb::list l;
  for (const TensorInfo& t : ts) {
    l.append(pyb::dict("name"_a = t.name, "dtype"_a = std::string(DTypeName(t.dtype)),
                       "shape"_a = t.shape));
  }
  return l;
}

template <typename Buffer>
pyb::buffer_info BufferInfo(const Buffer& b) {
  return pyb::buffer_info(b.data(), 1, pyb::format_descriptor<uint8_t>::format(), 1,
                          {static_cast<pyb::ssize_t>(b.size())}, {1});
}

template <typename Buffer>
pyb::array BufferArray(const pyb::object& self, const Buffer& b, const pyb::object& dtype,
                       const std::optional<std::vector<int64_t>>& shape, size_t offset) {
  pyb::dtype dt = pyb::dtype::from_args(dtype);
  DType t = DTypeFromNumpy(dt);
  std::vector<int64_t> dims;
  if (shape) {
    dims = *shape;
  } else {
    if (offset > b.size()) ThrowIfError(OutOfRange("offset ", offset, " past ", b.size()));
    dims = {static_cast<int64_t>((b.size() - offset) / DTypeSize(t))};
  }
  Tensor view = b.as_tensor(t, dims, offset);  // checks bounds and alignment
  std::vector<pyb::ssize_t> sh(dims.begin(), dims.end());
  return pyb::array(dt, sh, {}, view.raw_data(), self);
}

}  // namespace
}  // namespace mlos::py

PYBIND11_MODULE(ml_llm_kernel_api, m) {
  using namespace mlos;      // NOLINT
  using namespace mlos::py;  // NOLINT
  m.doc() =
      "MLOS KernelAPI for Python: tensors, memory, models and inference, embedded in this "
      "process or served by the mlos_core daemon over its Unix socket.";
  static pyb::exception<KernelError> kernel_error(m, "KernelError", PyExc_RuntimeError);
  pyb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const KernelError& e) {
      kernel_error(e.what());
    }
  });

  pyb::class_<Model>(m, "Model", "A loaded model (returned by KernelAPI.load_model).")
      .def_property_readonly("id", &Model::id, "The model id, '<ns>/<name>@<version>'.")
      .def_property_readonly("path", &Model::path, "The file or folder that was loaded.")
      .def_property_readonly(
          "inputs", [](const Model& mo) { return Infos(mo.inputs()); },
          "Declared inputs: [{'name', 'dtype', 'shape'}] (-1: dynamic).")
      .def_property_readonly(
          "outputs", [](const Model& mo) { return Infos(mo.outputs()); },
          "Declared outputs, in the order run_inference returns them.")
      .def("__repr__", [](const Model& mo) { return "<Model '" + mo.id() + "'>"; });

  pyb::class_<MemoryBuffer>(m, "MemoryBuffer", pyb::buffer_protocol(),
                            "Kernel-managed memory (64-byte aligned, zero-filled); supports the "
                            "buffer protocol.")
      .def_buffer([](MemoryBuffer& b) { return BufferInfo(b); })
      .def_property_readonly("size", &MemoryBuffer::size)
      .def("__len__", &MemoryBuffer::size)
      .def(
          "array",
          [](pyb::object self, const pyb::object& dtype, std::optional<std::vector<int64_t>> shape,
             size_t offset) {
            return BufferArray(self, self.cast<MemoryBuffer&>(), dtype, shape, offset);
          },
          "dtype"_a = "float32", "shape"_a = pyb::none(), "offset"_a = 0,
          "A numpy array over these bytes (no copy).");

  pyb::class_<SharedMemoryBuffer>(
      m, "SharedMemoryBuffer", pyb::buffer_protocol(),
      "A memfd shared-memory buffer; arrays made with .array() are sent to the daemon by "
      "reference (zero-copy) in remote mode.")
      .def_buffer([](SharedMemoryBuffer& b) { return BufferInfo(b); })
      .def_property_readonly("size", &SharedMemoryBuffer::size)
      .def_property_readonly("fd", &SharedMemoryBuffer::fd, "The memfd (pass it to a peer).")
      .def("seal", &SharedMemoryBuffer::seal, "Forbid growing and shrinking.")
      .def("__len__", &SharedMemoryBuffer::size)
      .def(
          "array",
          [](pyb::object self, const pyb::object& dtype, std::optional<std::vector<int64_t>> shape,
             size_t offset) {
            return BufferArray(self, self.cast<SharedMemoryBuffer&>(), dtype, shape, offset);
          },
          "dtype"_a = "float32", "shape"_a = pyb::none(), "offset"_a = 0,
          "A numpy array over these bytes (no copy).");

  pyb::class_<PyKernel>(m, "KernelAPI",
                        "The ML/LLM kernel API. KernelAPI() runs embedded (or remote when "
                        "MLOS_ENDPOINT is set); KernelAPI('unix:///path/mlos.sock') talks to "
                        "the mlos_core daemon.")
      .def(pyb::init([](std::optional<std::string> endpoint, int num_threads) {
             auto k = std::make_unique<PyKernel>();
             KernelOptions o;
             o.num_threads = num_threads;
             k->api = endpoint ? std::make_unique<KernelAPI>(*endpoint, o)
                               : std::make_unique<KernelAPI>(o);
             return k;
           }),
           "endpoint"_a = pyb::none(), "num_threads"_a = 0)
      .def_property_readonly("is_remote", [](PyKernel& k) { return k.api->is_remote(); })
      .def_property_readonly("endpoint", [](PyKernel& k) { return k.api->endpoint(); })
      .def_property_readonly("num_threads", [](PyKernel& k) { return k.api->num_threads(); })
      .def(
          "create_tensor",
          [](PyKernel& k, const std::vector<int64_t>& dims, const pyb::object& dtype) {
            return ToNumpy(
                k.api->create_tensor(dims, DTypeFromNumpy(pyb::dtype::from_args(dtype))));
          },
          "dimensions"_a, "dtype"_a = "float32", "A zero-filled array of the given dimensions.")
      .def(
          "matrix_multiply",
          [](PyKernel& k, const pyb::object& a, const pyb::object& b) {
            Tensor ta = ToTensor(a, nullptr), tb = ToTensor(b, nullptr), r;
            {
              pyb::gil_scoped_release nogil;
              r = k.api->matrix_multiply(ta, tb);
              ta = tb = Tensor();
            }
            return ToNumpy(r);
          },
          "tensor1"_a, "tensor2"_a, "numpy.matmul semantics on float32 arrays.")
      .def(
          "tensor_operations",
          [](PyKernel& k, const pyb::object& t, const std::string& op, const pyb::object& other) {
            Tensor a = ToTensor(t, nullptr), r;
            if (other.is_none()) {
              pyb::gil_scoped_release nogil;
              r = k.api->tensor_operations(a, op);
              a = Tensor();
            } else if (pyb::isinstance<pyb::float_>(other) || pyb::isinstance<pyb::int_>(other)) {
              double s = other.cast<double>();
              pyb::gil_scoped_release nogil;
              r = k.api->tensor_operations(a, op, s);
              a = Tensor();
            } else {
              Tensor b = ToTensor(other, nullptr);
              pyb::gil_scoped_release nogil;
              r = k.api->tensor_operations(a, op, b);
              a = b = Tensor();
            }
            return ToNumpy(r);
          },
          "tensor"_a, "operation"_a, "other"_a = pyb::none(),
          "Element-wise operation: unary ('relu', 'exp', 'softmax', ...) or binary with an "
          "array or a scalar ('add', 'multiply', ...).")
      .def(
          "allocate_memory", [](PyKernel& k, size_t size) { return k.api->allocate_memory(size); },
          "size"_a, "Kernel-managed memory of `size` bytes.")
      .def(
          "shared_memory_buffer",
          [](PyKernel& k, size_t size) {
            SharedMemoryBuffer b = k.api->shared_memory_buffer(size);
            k.regions.Add(b.region());
            return b;
          },
          "size"_a, "A memfd shared-memory buffer of `size` bytes.")
      .def(
          "load_model",
          [](PyKernel& k, const std::string& path) {
            pyb::gil_scoped_release nogil;
            return k.api->load_model(path);
          },
          "model_path"_a,
          "Loads a model package folder, .onnx file or .axon archive (remote: also a "
          "registered model id).")
      .def(
          "save_model",
          [](PyKernel& k, const Model& model, const std::string& dest) {
            pyb::gil_scoped_release nogil;
            k.api->save_model(model, dest);
          },
          "model"_a, "destination_path"_a, "Copies the model's files to a new path.")
      .def("run_inference", &RunInference, "model"_a, "input_data"_a,
           "Runs the model. input_data: an array (the first input) or a dict of arrays by "
           "input name. Returns a dict of numpy arrays by output name, in model order.")
      // ---- training sessions ----
      .def(
          "start_training",
          [](PyKernel& k, const std::string& model, const std::string& dataset,
             const pyb::object& config, const pyb::object& register_as,
             const pyb::object& register_version, const pyb::kwargs& kwargs) {
            std::string cfg = TrainingConfigJson(config, register_as, register_version, kwargs);
            pyb::gil_scoped_release nogil;
            return k.api->start_training(model, dataset, cfg);
          },
          "model"_a, "dataset"_a, "config"_a = pyb::none(), "register_as"_a = pyb::none(),
          "register_version"_a = pyb::none(),
          "Starts a training session in the background and returns its id.\n\n"
          "model: a TorchScript file (remote: also a registered model id); dataset: a CSV, NPY, "
          "NPZ or text file or a folder of them. config: a dict (or JSON string) of training "
          "settings -- optimizer ('sgd', 'adam', 'adamw'), learning_rate, schedule, batch_size, "
          "epochs, max_steps, loss ('cross_entropy', 'mse'), validation_split, threads, seed, "
          "checkpoint_interval, checkpoint_dir, output_path, ...; keyword arguments are merged "
          "into it. register_as: register the finished model under this name (as a new "
          "version, or register_version) so that it is served.")
      .def(
          "pause_training",
          [](PyKernel& k, const std::string& id) {
            pyb::gil_scoped_release nogil;
            return k.api->pause_training(id);
          },
          "session_id"_a,
          "Pauses a starting or running session (it continues exactly where it stopped when "
          "resumed; a starting one pauses at step 0 once loaded). True when paused; False when "
          "the session already ended; KernelError for an unknown id.")
      .def(
          "resume_training",
          [](PyKernel& k, const std::string& id) {
            pyb::gil_scoped_release nogil;
            return k.api->resume_training(id);
          },
          "session_id"_a, "Resumes a paused session. True when resumed, False otherwise.")
      .def(
          "stop_training",
          [](PyKernel& k, const std::string& id) {
            pyb::gil_scoped_release nogil;
            return k.api->stop_training(id);
          },
          "session_id"_a,
          "Stops a session for good (a last checkpoint is written). True when stopped; False "
          "when it had already ended (stopped, completed or failed), as for pause and resume.")
      .def(
          "get_training_status",
          [](PyKernel& k, const std::string& id) {
            std::string json;
            {
              pyb::gil_scoped_release nogil;
              json = k.api->get_training_status(id);
            }
            return FromJson(json);
          },
          "session_id"_a,
          "The session as a dict: id, state ('starting', 'running', 'paused', 'stopped', "
          "'completed', 'failed'), epoch, step, total_steps, loss, learning_rate, val_loss, "
          "val_accuracy, "
          "samples_per_second, eta_seconds, checkpoints, output_path, registered_model, ...")
      .def(
          "list_training",
          [](PyKernel& k) {
            std::string json;
            {
              pyb::gil_scoped_release nogil;
              json = k.api->list_training();
            }
            return FromJson(json).attr("__getitem__")("sessions");
          },
          "Every training session, as a list of status dicts.")
      .def(
          "wait_training",
          [](PyKernel& k, const std::string& id, double timeout) {
            pyb::gil_scoped_release nogil;
            return k.api->wait_training(id, timeout);
          },
          "session_id"_a, "timeout"_a = 3600.0,
          "Waits until the session completed, stopped or failed; False when `timeout` seconds "
          "ran out first.");
}
