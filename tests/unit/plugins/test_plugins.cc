// Test plugins for the host's tests: one source, built as several libraries that differ by
// TEST_VARIANT, each faulty in its own way. The "faulty" variant (the default) misbehaves per
// model, chosen by the model path's last component, so one library covers every runtime fault.
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "mlos/smi_spec.h"

#ifndef TEST_VARIANT
#define TEST_VARIANT 0
#endif
// 0 faulty-at-runtime (good descriptor), 1 major version 2, 2 minor version above the host's,
// 3 smi_plugin_init returns NULL, 4 plugin_id is a bad pointer, 5 no inference entry,
// 6 initialize fails with a message, 7 smi_plugin_init throws, 8 get_smi_version disagrees.

namespace {

const smi_host_api_t* g_host = nullptr;

smi_status_t Fail(smi_status_t code, const char* msg) {
  if (g_host != nullptr) g_host->set_error(msg);
  return code;
}

struct Model {
  std::string mode;
};

const int64_t kShape[1] = {-1};
const smi_tensor_desc_t kIn[1] = {{"x", SMI_DTYPE_FLOAT32, 1, kShape}};
const smi_tensor_desc_t kOut[1] = {{"y", SMI_DTYPE_FLOAT32, 1, kShape}};

smi_status_t SetHost(const smi_host_api_t* host) {
  g_host = host;
  return SMI_SUCCESS;
}

smi_status_t Initialize(const char*) {
  if (TEST_VARIANT == 6) return Fail(SMI_ERROR_RUNTIME, "cannot find the license server");
  return SMI_SUCCESS;
}

smi_status_t RegisterModel(const char* metadata, smi_model_handle_t* out) {
  // The path is the last component of "path" in the metadata JSON.
  std::string md = metadata;
  auto p = md.find("\"path\":\"");
  std::string path = p == std::string::npos ? "" : md.substr(p + 8, md.find('"', p + 8) - p - 8);
  auto* m = new Model{path.substr(path.rfind('/') + 1)};
  if (m->mode == "register_error") {
    delete m;
    return Fail(SMI_ERROR_NOT_FOUND, "no such model in the zoo");
  }
  *out = m;
  return SMI_SUCCESS;
}

smi_status_t UnregisterModel(smi_model_handle_t h) {
  delete static_cast<Model*>(h);
  return SMI_SUCCESS;
}

smi_status_t LoadModel(smi_model_handle_t h, const char*) {
  if (static_cast<Model*>(h)->mode == "load_throw") throw std::runtime_error("load exploded");
  return SMI_SUCCESS;
}

smi_status_t Inference(smi_model_handle_t h, const void* in, size_t n, void* out, size_t* out_n) {
  const std::string& mode = static_cast<Model*>(h)->mode;
  if (mode == "throw") throw std::runtime_error("inference exploded");
  if (mode == "throw_int") throw 42;
  if (mode == "error") return Fail(SMI_ERROR_RUNTIME, "the accelerator caught fire");
  if (mode == "error_nomsg") return SMI_ERROR_RUNTIME;
  if (mode == "unknown_code") return static_cast<smi_status_t>(42);
  if (mode == "big_size") {
    *out_n = *out_n * 10 + 1;
    return SMI_SUCCESS;
  }
  if (mode == "endless_too_small") {
    *out_n = *out_n + 1;
    return SMI_ERROR_BUFFER_TOO_SMALL;
  }
  if (mode == "huge_too_small") {
    *out_n = size_t{1} << 40;
    return SMI_ERROR_BUFFER_TOO_SMALL;
  }
  if (mode == "overflow") {
    std::memset(out, 'x', *out_n + 16);
    *out_n = 1;
    return SMI_SUCCESS;
  }
  if (mode == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (*out_n < n) {
    *out_n = n;
    return SMI_ERROR_BUFFER_TOO_SMALL;
  }
  std::memcpy(out, in, n);
  *out_n = n;
  return SMI_SUCCESS;
}

void Release(void* p) { std::free(p); }

smi_status_t TensorInference(smi_model_handle_t h, const smi_tensor_t* in, size_t n,
                             const smi_output_sink_t* sink) {
  const std::string& mode = static_cast<Model*>(h)->mode;
  if (mode == "throw") throw std::runtime_error("tensor inference exploded");
  if (mode == "throw_int") throw 42;
  if (mode == "error") return Fail(SMI_ERROR_INVALID_PARAM, "x must be positive");
  if (mode == "unknown_code") return static_cast<smi_status_t>(-99);
  const int64_t one[1] = {1};
  if (mode == "bad_dtype")
    return sink->allocate(sink->ctx, "y", 99, one, 1) ? SMI_SUCCESS : SMI_ERROR_RUNTIME;
  if (mode == "neg_shape") {
    const int64_t neg[1] = {-5};
    return sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, neg, 1) ? SMI_SUCCESS
                                                                     : SMI_ERROR_RUNTIME;
  }
  if (mode == "huge_shape") {
    const int64_t huge[2] = {int64_t{1} << 40, int64_t{1} << 40};
    return sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, huge, 2) ? SMI_SUCCESS
                                                                      : SMI_ERROR_RUNTIME;
  }
  if (mode == "too_many_dims") {
    int64_t dims[40] = {};
    return sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, dims, 40) ? SMI_SUCCESS
                                                                       : SMI_ERROR_RUNTIME;
  }
  if (mode == "null_name")
    return sink->allocate(sink->ctx, nullptr, SMI_DTYPE_FLOAT32, one, 1) ? SMI_SUCCESS
                                                                         : SMI_ERROR_RUNTIME;
  if (mode == "bad_name_ptr") {
    return sink->allocate(sink->ctx, reinterpret_cast<const char*>(16), SMI_DTYPE_FLOAT32, one, 1)
               ? SMI_SUCCESS
               : SMI_ERROR_RUNTIME;
  }
  if (mode == "bad_shape_ptr") {
    return sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, reinterpret_cast<const int64_t*>(8), 1)
               ? SMI_SUCCESS
               : SMI_ERROR_RUNTIME;
  }
  if (mode == "bad_adopt") {
    return sink->adopt(sink->ctx, "y", SMI_DTYPE_FLOAT32, one, 1, reinterpret_cast<void*>(64),
                       nullptr, nullptr);
  }
  if (mode == "dup_output") {
    sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, one, 1);
    sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, one, 1);
    return SMI_SUCCESS;  // lies: the host must notice the duplicate anyway
  }
  if (mode == "missing_output") return SMI_SUCCESS;
  if (mode == "extra_output") {
    sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, one, 1);
    sink->allocate(sink->ctx, "z", SMI_DTYPE_FLOAT32, one, 1);
    return SMI_SUCCESS;
  }
  // Good behaviour: y = x + 1, the output adopted (mode "adopt") or allocated.
  const smi_tensor_t* x = nullptr;
  for (size_t i = 0; i < n; ++i) {
    if (std::strcmp(in[i].name, "x") == 0) x = &in[i];
  }
  if (x == nullptr || x->dtype != SMI_DTYPE_FLOAT32)
    return Fail(SMI_ERROR_INVALID_PARAM, "need float32 x");
  if (mode == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(2));
  size_t count = x->data_size / sizeof(float);
  float* y;
  if (mode == "in_place" || mode == "in_place_overrun") {
    // SMI 1.2: compute into the host's binding for "y" when there is room, else allocate.
    const size_t covers = offsetof(smi_output_sink_t, num_bindings) + sizeof(uint32_t);
    const smi_output_binding_t* b = nullptr;
    for (uint32_t i = 0; sink->struct_size >= covers && i < sink->num_bindings; ++i) {
      if (std::strcmp(sink->bindings[i].name, "y") == 0) b = &sink->bindings[i];
    }
    if (b != nullptr && b->capacity >= count * sizeof(float)) {
      y = static_cast<float*>(b->data);
      for (size_t i = 0; i < count; ++i) y[i] = static_cast<const float*>(x->data)[i] + 1;
      // "in_place_overrun" claims one element more than the binding holds.
      const int64_t shape[1] = {static_cast<int64_t>(b->capacity / sizeof(float)) + 1};
      if (mode == "in_place_overrun") {
        return sink->adopt(sink->ctx, "y", SMI_DTYPE_FLOAT32, shape, 1, y, nullptr, nullptr);
      }
      return sink->adopt(sink->ctx, "y", SMI_DTYPE_FLOAT32, x->shape, x->ndim, y, nullptr, nullptr);
    }
  }
  if (mode == "adopt") {
    y = static_cast<float*>(std::malloc(count * sizeof(float) + 1));
    for (size_t i = 0; i < count; ++i) y[i] = static_cast<const float*>(x->data)[i] + 1;
    return sink->adopt(sink->ctx, "y", SMI_DTYPE_FLOAT32, x->shape, x->ndim, y, &Release, y);
  }
  y = static_cast<float*>(sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, x->shape, x->ndim));
  if (y == nullptr) return SMI_ERROR_OUT_OF_MEMORY;
  for (size_t i = 0; i < count; ++i) y[i] = static_cast<const float*>(x->data)[i] + 1;
  return SMI_SUCCESS;
}

smi_status_t GetModelInfo(smi_model_handle_t h, smi_model_info_t* info) {
  const std::string& mode = static_cast<Model*>(h)->mode;
  if (mode == "bad_info") {
    info->num_inputs = 1;
    info->inputs = reinterpret_cast<const smi_tensor_desc_t*>(32);
    return SMI_SUCCESS;
  }
  if (mode == "huge_info") {
    info->num_inputs = 4000000000u;
    info->inputs = kIn;
    return SMI_SUCCESS;
  }
  info->num_inputs = 1;
  info->num_outputs = 1;
  info->inputs = kIn;
  info->outputs = kOut;
  return SMI_SUCCESS;
}

const char* Name() { return "Test plugin"; }
const char* Version() { return "0.1.0"; }
const char* Frameworks() { return "test-fw, Other"; }
uint32_t GetSmiVersion() { return TEST_VARIANT == 8 ? SMI_MAKE_VERSION(3, 0, 0) : SMI_VERSION; }

const smi_plugin_ext_t kExt = {sizeof(smi_plugin_ext_t), 0, &SetHost,
                               TEST_VARIANT == 5 ? nullptr : &TensorInference};

smi_plugin_t g_plugin = {
    {&Initialize, nullptr, &RegisterModel, &UnregisterModel, &LoadModel, nullptr,
     TEST_VARIANT == 5 ? nullptr : &Inference, nullptr, nullptr, nullptr, &GetModelInfo, &Name,
     &Version, &Frameworks, &GetSmiVersion},
    TEST_VARIANT == 4 ? reinterpret_cast<const char*>(24) : "test-plugin",
    TEST_VARIANT == 1   ? SMI_MAKE_VERSION(2, 0, 0)
    : TEST_VARIANT == 2 ? SMI_MAKE_VERSION(SMI_VERSION_MAJOR, SMI_VERSION_MINOR + 1, 0)
                        : SMI_VERSION,
    nullptr,
    sizeof(smi_plugin_t),
    SMI_PLUGIN_FLAG_THREAD_SAFE,
    &kExt,
};

}  // namespace

extern "C" SMI_EXPORT smi_plugin_t* smi_plugin_init(void) {
  if (TEST_VARIANT == 3) return nullptr;
  if (TEST_VARIANT == 7) throw std::runtime_error("init exploded");
  return &g_plugin;
}
