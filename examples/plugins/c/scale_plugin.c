/* scale_plugin.c: a complete SMI plugin in C99, written against mlos/smi_spec.h and docs/SMI.md
 * only. It serves "scale models": a model file is a text file holding two numbers, "a b", and
 * the model computes y = a * x + b elementwise on a float32 tensor named "x", giving "y".
 *
 * It shows every part of the ABI: the seed's vtable, the extension table with set_host and the
 * typed zero-copy entry (outputs allocated through the host's sink), error messages through
 * host->set_error, logging, get_model_info, and the byte-level entry (raw float32 bytes in and
 * out).
 *
 * Build: cc -std=c99 -O2 -shared -fPIC -I<prefix>/include scale_plugin.c -o libmlos_scale.so
 * Register: curl -X POST localhost:8080/plugins/register \
 *   -d '{"id":"scale","name":"Scale","version":"1.0.0","endpoint":"file:///abs/libmlos_scale.so"}'
 */
#include <mlos/smi_spec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct scale_model {
  float a, b;
  int loaded;
} scale_model_t;

static const smi_host_api_t* g_host = NULL;

static const int64_t k_dynamic_shape[1] = {-1};
static const smi_tensor_desc_t k_inputs[1] = {{"x", SMI_DTYPE_FLOAT32, 1, k_dynamic_shape}};
static const smi_tensor_desc_t k_outputs[1] = {{"y", SMI_DTYPE_FLOAT32, 1, k_dynamic_shape}};

static smi_status_t fail(smi_status_t code, const char* message) {
  if (g_host != NULL && g_host->set_error != NULL) g_host->set_error(message);
  return code;
}

static smi_status_t scale_set_host(const smi_host_api_t* host) {
  g_host = host;
  return SMI_SUCCESS;
}

static smi_status_t scale_initialize(const char* config) {
  (void)config;
  if (g_host != NULL && g_host->log != NULL) g_host->log(SMI_LOG_INFO, "scale plugin ready");
  return SMI_SUCCESS;
}

static smi_status_t scale_cleanup(void) { return SMI_SUCCESS; }

static smi_status_t scale_register_model(const char* metadata, smi_model_handle_t* out_handle) {
  scale_model_t* m;
  (void)metadata;
  if (out_handle == NULL) return fail(SMI_ERROR_INVALID_PARAM, "out_handle is NULL");
  m = (scale_model_t*)calloc(1, sizeof(*m));
  if (m == NULL) return fail(SMI_ERROR_OUT_OF_MEMORY, "out of memory");
  *out_handle = m;
  return SMI_SUCCESS;
}

static smi_status_t scale_unregister_model(smi_model_handle_t handle) {
  free(handle);
  return SMI_SUCCESS;
}

static smi_status_t scale_load_model(smi_model_handle_t handle, const char* path) {
  scale_model_t* m = (scale_model_t*)handle;
  FILE* f;
  int n;
  if (m == NULL || path == NULL) return fail(SMI_ERROR_INVALID_PARAM, "NULL argument");
  f = fopen(path, "r");
  if (f == NULL) return fail(SMI_ERROR_NOT_FOUND, "cannot open the model file");
  n = fscanf(f, "%f %f", &m->a, &m->b);
  fclose(f);
  if (n != 2) return fail(SMI_ERROR_INVALID_PARAM, "a scale model file holds two numbers: a b");
  m->loaded = 1;
  return SMI_SUCCESS;
}

static smi_status_t scale_unload_model(smi_model_handle_t handle) {
  scale_model_t* m = (scale_model_t*)handle;
  if (m != NULL) m->loaded = 0;
  return SMI_SUCCESS;
}

static void apply(const scale_model_t* m, const float* x, float* y, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) y[i] = m->a * x[i] + m->b;
}

/* Byte level: the request is raw little-endian float32 values; so is the reply. */
static smi_status_t scale_inference(smi_model_handle_t handle, const void* input, size_t input_size,
                                    void* output, size_t* output_size) {
  const scale_model_t* m = (const scale_model_t*)handle;
  if (m == NULL || !m->loaded || output_size == NULL) {
    return fail(SMI_ERROR_INVALID_PARAM, "model not loaded");
  }
  if (input_size % sizeof(float) != 0) {
    return fail(SMI_ERROR_INVALID_PARAM, "input must be a whole number of float32 values");
  }
  if (*output_size < input_size) {
    *output_size = input_size;
    return SMI_ERROR_BUFFER_TOO_SMALL;
  }
  apply(m, (const float*)input, (float*)output, input_size / sizeof(float));
  *output_size = input_size;
  return SMI_SUCCESS;
}

/* Typed and zero-copy: x is read in place, y is written straight into host memory. */
static smi_status_t scale_tensor_inference(smi_model_handle_t handle, const smi_tensor_t* inputs,
                                           size_t num_inputs, const smi_output_sink_t* sink) {
  const scale_model_t* m = (const scale_model_t*)handle;
  const smi_tensor_t* x = NULL;
  size_t i, n = 1;
  float* y;
  if (m == NULL || !m->loaded) return fail(SMI_ERROR_INVALID_PARAM, "model not loaded");
  for (i = 0; i < num_inputs; ++i) {
    if (strcmp(inputs[i].name, "x") == 0) x = &inputs[i];
  }
  if (x == NULL) return fail(SMI_ERROR_INVALID_PARAM, "input 'x' is required");
  if (x->dtype != SMI_DTYPE_FLOAT32) return fail(SMI_ERROR_INVALID_PARAM, "x must be float32");
  for (i = 0; i < x->ndim; ++i) n *= (size_t)x->shape[i];
  y = (float*)sink->allocate(sink->ctx, "y", SMI_DTYPE_FLOAT32, x->shape, x->ndim);
  if (y == NULL) return SMI_ERROR_OUT_OF_MEMORY; /* the host has recorded why */
  apply(m, (const float*)x->data, y, n);
  return SMI_SUCCESS;
}

static smi_status_t scale_get_model_info(smi_model_handle_t handle, smi_model_info_t* info) {
  (void)handle;
  if (info == NULL) return fail(SMI_ERROR_INVALID_PARAM, "info is NULL");
  /* Write only what the host's struct_size covers. */
  if (info->struct_size >= offsetof(smi_model_info_t, outputs) + sizeof(info->outputs)) {
    info->num_inputs = 1;
    info->num_outputs = 1;
    info->inputs = k_inputs;
    info->outputs = k_outputs;
  }
  return SMI_SUCCESS;
}

static const char* scale_name(void) { return "Scale (C example)"; }
static const char* scale_version(void) { return "1.0.0"; }
static const char* scale_frameworks(void) { return "scale"; }
static uint32_t scale_smi_version(void) { return SMI_VERSION; }

static const smi_plugin_ext_t scale_ext = {
    sizeof(smi_plugin_ext_t),
    0,
    scale_set_host,
    scale_tensor_inference,
};

smi_plugin_t* smi_plugin_init(void) {
  static smi_plugin_t plugin = {
      {
          scale_initialize,
          scale_cleanup,
          scale_register_model,
          scale_unregister_model,
          scale_load_model,
          scale_unload_model,
          scale_inference,
          NULL, /* batch_inference: optional */
          NULL, /* allocate_resources */
          NULL, /* deallocate_resources */
          scale_get_model_info,
          scale_name,
          scale_version,
          scale_frameworks,
          scale_smi_version,
      },
      "example-scale",
      SMI_VERSION,
      NULL,
      sizeof(smi_plugin_t),
      0, /* not thread-safe: the host serialises calls */
      &scale_ext,
  };
  return &plugin;
}
