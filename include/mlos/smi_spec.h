/* smi_spec.h: the Standard Model Interface (SMI), the versioned C ABI between the MLOS host and
 * its backend plugins. Every backend goes through it, the built-in ONNX engine included.
 * docs/SMI.md is the full specification; this header is its normative C form.
 *
 * Pure C99, no dependencies beyond <stddef.h> and <stdint.h>; compiles as C and as C++.
 *
 * Two directions (see docs/SMI.md, "Shape of the ABI"):
 *   plugin -> host: the library exports `smi_plugin_t* smi_plugin_init(void)`, which returns a
 *     plugin descriptor that stays valid until the library is unloaded. The descriptor holds the
 *     seed's 15-member vtable (smi_plugin_interface_t) and, when `struct_size` covers it, an
 *     extension table (smi_plugin_ext_t) with the typed zero-copy tensor entry.
 *   host -> plugin: before `initialize`, the host hands its services (allocation, logging, error
 *     messages) through smi_plugin_ext_t.set_host as a smi_host_api_t.
 *   training (SMI 1.1, optional): a library may also export `smi_plugin_training`, returning a
 *     smi_training_api_t with training-session entries (start, pause/resume/stop, status, wait).
 *   output bindings (SMI 1.2, optional): the sink may carry host memory where each output would
 *     best be written (smi_output_binding_t), so a plugin can compute into it and skip the copy.
 *
 * Compatibility rule: the host loads a plugin when SMI_VERSION_GET_MAJOR(plugin) equals the
 * host's major and the plugin's minor is at most the host's minor. Every vtable member except
 * `inference` (or ext->tensor_inference) may be NULL. Structs that may grow carry `struct_size`;
 * a reader uses a member only when struct_size covers it.
 *
 * Ownership: strings and tables a plugin returns belong to the plugin and stay valid for the
 * lifetime stated at each member. Memory handed out by the host (alloc, output buffers) belongs
 * to the host.
 * Thread-safety: unless the descriptor sets SMI_PLUGIN_FLAG_THREAD_SAFE, the host never calls one
 * plugin from two threads at once. smi_host_api_t functions may be called from any thread. */
#ifndef MLOS_SMI_SPEC_H_
#define MLOS_SMI_SPEC_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ---------------------------------------------------------------------------- */

#define SMI_VERSION_MAJOR 1
#define SMI_VERSION_MINOR 2
#define SMI_VERSION_PATCH 0
#define SMI_MAKE_VERSION(major, minor, patch) \
  ((uint32_t)(((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8) | (uint32_t)(patch)))
#define SMI_VERSION SMI_MAKE_VERSION(SMI_VERSION_MAJOR, SMI_VERSION_MINOR, SMI_VERSION_PATCH)
#define SMI_VERSION_GET_MAJOR(v) (((uint32_t)(v) >> 16) & 0xffffu)
#define SMI_VERSION_GET_MINOR(v) (((uint32_t)(v) >> 8) & 0xffu)
#define SMI_VERSION_GET_PATCH(v) ((uint32_t)(v)&0xffu)

/* Symbol visibility for the entry point of plugins built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define SMI_EXPORT __attribute__((visibility("default")))
#else
#define SMI_EXPORT
#endif

/* ---- status codes ----------------------------------------------------------------------- */

typedef enum smi_status {
  SMI_SUCCESS = 0,
  SMI_ERROR_INVALID_PARAM = -1,    /* the request or argument is malformed */
  SMI_ERROR_OUT_OF_MEMORY = -2,    /* an allocation failed */
  SMI_ERROR_NOT_FOUND = -3,        /* unknown model handle, input name or file */
  SMI_ERROR_NOT_SUPPORTED = -4,    /* valid, but this plugin does not do it */
  SMI_ERROR_RUNTIME = -5,          /* the framework failed while doing it */
  SMI_ERROR_BUFFER_TOO_SMALL = -6, /* *output_size now holds the bytes needed */
  SMI_ERROR_VERSION_MISMATCH = -7  /* incompatible SMI versions */
} smi_status_t;

/* ---- element types: the numbering of ONNX TensorProto.DataType -------------------------- */

typedef enum smi_dtype {
  SMI_DTYPE_UNDEFINED = 0,
  SMI_DTYPE_FLOAT32 = 1,
  SMI_DTYPE_UINT8 = 2,
  SMI_DTYPE_INT8 = 3,
  SMI_DTYPE_UINT16 = 4,
  SMI_DTYPE_INT16 = 5,
  SMI_DTYPE_INT32 = 6,
  SMI_DTYPE_INT64 = 7,
  SMI_DTYPE_BOOL = 9, /* one byte per element, 0 or 1 */
  SMI_DTYPE_FLOAT16 = 10,
  SMI_DTYPE_FLOAT64 = 11,
  SMI_DTYPE_UINT32 = 12,
  SMI_DTYPE_UINT64 = 13,
  SMI_DTYPE_BFLOAT16 = 16
} smi_dtype_t;

#define SMI_MAX_DIMS 16

/* ---- handles and descriptors ------------------------------------------------------------ */

/* A model as the plugin knows it. The plugin defines what it points to; the host only passes it
 * back. Before register_model the host stores a unique non-NULL value in *out_handle, so a
 * plugin that keeps no per-model state may leave it as it is. */
typedef void* smi_model_handle_t;

/* One named tensor, row-major and contiguous. */
typedef struct smi_tensor {
  uint32_t struct_size; /* sizeof(smi_tensor_t) of the writer */
  int32_t dtype;        /* a smi_dtype_t */
  const char* name;     /* NUL-terminated */
  const int64_t* shape; /* ndim entries, each >= 0 */
  uint32_t ndim;        /* <= SMI_MAX_DIMS; 0 is a scalar */
  uint32_t reserved;
  void* data;         /* ndim-product * element-size bytes; may be NULL when that is 0 */
  uint64_t data_size; /* bytes at data */
} smi_tensor_t;

/* Declared input or output of a model; dimensions of -1 are dynamic. */
typedef struct smi_tensor_desc {
  const char* name;
  int32_t dtype;
  uint32_t ndim;
  const int64_t* shape;
} smi_tensor_desc_t;

/* Filled by get_model_info. The host zeroes it and sets struct_size to its own size; the plugin
 * writes only members that struct_size covers. Pointers stay valid until unload_model. */
typedef struct smi_model_info {
  uint32_t struct_size;
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t reserved;
  const smi_tensor_desc_t* inputs;
  const smi_tensor_desc_t* outputs;
  uint64_t max_output_size; /* bytes `inference` may write; 0 lets the host choose */
  const char* description;  /* may be NULL */
} smi_model_info_t;

/* SMI 1.2: host memory where one output of a tensor_inference call would best be written (for
 * example a client's shared-memory region). Valid during the call only. The bytes may be shared
 * with another process that can change them at any time: a plugin may write its output there,
 * but must never rely on reading back what it wrote (changed indices could steer its memory
 * accesses). */
typedef struct smi_output_binding {
  const char* name;  /* a declared output of the model; NUL-terminated */
  void* data;        /* aligned to at least the output's element size when the host binds it */
  uint64_t capacity; /* bytes the plugin may write at data, and nothing outside them */
} smi_output_binding_t;

/* Where tensor_inference puts its outputs. Owned by the host, valid during the call only.
 * Either `allocate` (host memory, written by the plugin) or `adopt` (plugin memory, handed over
 * without a copy) is called once per output, in the order of the model's outputs.
 * SMI 1.2 bindings: a plugin that wrote an output into its binding reports it with `adopt`,
 * passing data == binding.data (product(shape) * element-size <= capacity); the host then takes
 * the bytes where they lie, with no copy, and may call release at once. An output not written
 * into its binding is reported as before, and the host copies it where it has to go. */
typedef struct smi_output_sink {
  uint32_t struct_size;
  uint32_t reserved;
  void* ctx;
  /* Returns a 64-byte-aligned buffer of product(shape) * element-size bytes that the plugin
   * fills, or NULL (out of memory, bad dtype or shape); the host owns it. */
  void* (*allocate)(void* ctx, const char* name, int32_t dtype, const int64_t* shape,
                    uint32_t ndim);
  /* Hands over `data` (product(shape) * element-size bytes). The host calls release(opaque)
   * once it no longer needs the bytes, from any thread, possibly after the call returned. On a
   * non-SMI_SUCCESS return the host has already called release. */
  smi_status_t (*adopt)(void* ctx, const char* name, int32_t dtype, const int64_t* shape,
                        uint32_t ndim, void* data, void (*release)(void* opaque), void* opaque);
  /* SMI 1.2, read only when struct_size covers them: the host's output bindings, at most one per
   * declared output, in no particular order; bindings is NULL when num_bindings is 0. */
  const smi_output_binding_t* bindings;
  uint32_t num_bindings;
  uint32_t reserved2;
} smi_output_sink_t;

/* ---- what the host gives the plugin ----------------------------------------------------- */

typedef enum smi_log_level {
  SMI_LOG_DEBUG = 0,
  SMI_LOG_INFO = 1,
  SMI_LOG_WARNING = 2,
  SMI_LOG_ERROR = 3
} smi_log_level_t;

typedef struct smi_host_api {
  uint32_t struct_size; /* sizeof(smi_host_api_t) of the host */
  uint32_t smi_version; /* the host's SMI_VERSION */
  /* 64-byte-aligned memory from the host's allocator, or NULL. Thread-safe. */
  void* (*alloc)(size_t size);
  void (*free)(void* ptr); /* NULL is a no-op */
  void (*log)(int32_t level, const char* message);
  /* Sets the message of the error the current call on this thread is about to return; the host
   * copies it. A plugin that returns an error without one gets a message naming the call. */
  void (*set_error)(const char* message);
  /* Host services by name for in-process built-ins (e.g. "mlos.thread_pool"); NULL when
   * unknown. External plugins need none of them. */
  void* (*query)(const char* key);
} smi_host_api_t;

/* ---- what the plugin implements: the seed's vtable -------------------------------------- */

typedef struct smi_plugin_interface {
  /* Called once after loading, before anything else but ext->set_host. `config` is a JSON
   * object (never NULL; "{}" when there is none). */
  smi_status_t (*initialize)(const char* config);
  /* Called once before the library is closed, after every model was unregistered. */
  smi_status_t (*cleanup)(void);
  /* `metadata` is a JSON object: model_id, path, framework, execution_format. The plugin may
   * replace *out_handle (see smi_model_handle_t). */
  smi_status_t (*register_model)(const char* metadata, smi_model_handle_t* out_handle);
  smi_status_t (*unregister_model)(smi_model_handle_t handle);
  /* `path`: the model file or folder, absolute. */
  smi_status_t (*load_model)(smi_model_handle_t handle, const char* path);
  smi_status_t (*unload_model)(smi_model_handle_t handle);
  /* Byte-level inference. The host passes a buffer of *output_size bytes; the plugin writes at
   * most that many and stores the count in *output_size. If it needs more it returns
   * SMI_ERROR_BUFFER_TOO_SMALL with the count needed in *output_size, and the host may retry.
   * For the built-in ONNX plugin the bytes are JSON (see docs/SMI.md). */
  smi_status_t (*inference)(smi_model_handle_t handle, const void* input, size_t input_size,
                            void* output, size_t* output_size);
  /* `batch_size` independent byte-level requests; the same buffer rules per item. */
  smi_status_t (*batch_inference)(smi_model_handle_t handle, const void* const* inputs,
                                  const size_t* input_sizes, size_t batch_size, void** outputs,
                                  size_t* output_sizes);
  /* `resources` is a JSON object such as {"memory_bytes": N, "threads": N}. */
  smi_status_t (*allocate_resources)(const char* resources);
  smi_status_t (*deallocate_resources)(void);
  smi_status_t (*get_model_info)(smi_model_handle_t handle, smi_model_info_t* info);
  const char* (*get_plugin_name)(void);
  const char* (*get_plugin_version)(void);
  /* Comma-separated, lower case: "onnx,pytorch". */
  const char* (*get_supported_frameworks)(void);
  uint32_t (*get_smi_version)(void);
} smi_plugin_interface_t;

/* ---- what the plugin implements: extensions past the seed ------------------------------- */

/* Training sessions (SMI 1.1; docs/SMI.md, "Training"). A plugin library that trains models
 * exports a second symbol, SMI_PLUGIN_TRAINING_SYMBOL, returning this table (the extension table
 * does not grow, so plugins that initialise it positionally still compile warning-free). Requests
 * and replies are JSON text; every string the plugin hands out (*out_id, *out_json) is allocated by
 * the plugin and given back to it with free_string. Errors: a status code plus set_error, as for
 * every entry. Every entry may be called from any thread, concurrently with each other and with
 * inference, whatever the descriptor's flags say; train_wait blocks only its caller. Sessions run
 * on the plugin's own threads; cleanup stops them (writing their last checkpoint) before it
 * returns. */
typedef enum smi_train_op {
  SMI_TRAIN_PAUSE = 1,  /* the session stops after its current step and waits */
  SMI_TRAIN_RESUME = 2, /* a paused session continues */
  SMI_TRAIN_STOP = 3,   /* the session ends (state "stopped") after writing a checkpoint */
  SMI_TRAIN_RELEASE = 4 /* stop if needed, then forget the session and free what it holds */
} smi_train_op_t;

typedef struct smi_training_api {
  uint32_t struct_size; /* sizeof(smi_training_api_t) of the plugin */
  uint32_t reserved;
  void* ctx; /* the plugin's; passed back as the first argument of every entry */
  /* Starts a session in the background. `request_json`: {"model_path", "dataset", "config",
   * "resume"}; on success *out_id is the new session's id. */
  smi_status_t (*train_start)(void* ctx, const char* request_json, char** out_id);
  /* Applies a smi_train_op_t to a session; SMI_ERROR_NOT_FOUND for an unknown id. */
  smi_status_t (*train_control)(void* ctx, const char* id, int32_t op);
  /* *out_json: the session's status as a JSON object. */
  smi_status_t (*train_status)(void* ctx, const char* id, char** out_json);
  /* *out_json: a JSON array of every session's status. */
  smi_status_t (*train_list)(void* ctx, char** out_json);
  /* Blocks until the session is completed, stopped or failed (*out_done = 1) or timeout_ms
   * passed (*out_done = 0). */
  smi_status_t (*train_wait)(void* ctx, const char* id, int64_t timeout_ms, int32_t* out_done);
  /* Frees a string this table handed out; NULL is a no-op. */
  void (*free_string)(void* ctx, char* s);
} smi_training_api_t;

typedef struct smi_plugin_ext {
  uint32_t struct_size; /* sizeof(smi_plugin_ext_t) of the plugin */
  uint32_t reserved;
  /* Receives the host's services before initialize; `host` stays valid until cleanup returns. */
  smi_status_t (*set_host)(const smi_host_api_t* host);
  /* Typed zero-copy inference: `inputs` are read in place (valid during the call only);
   * outputs go to `sink`, one call of allocate or adopt per output. */
  smi_status_t (*tensor_inference)(smi_model_handle_t handle, const smi_tensor_t* inputs,
                                   size_t num_inputs, const smi_output_sink_t* sink);
} smi_plugin_ext_t;

#define SMI_PLUGIN_FLAG_THREAD_SAFE 1u /* entry points may be called concurrently */

/* The descriptor smi_plugin_init returns. Member order is fixed for major version 1. */
typedef struct smi_plugin {
  smi_plugin_interface_t interface;
  const char* plugin_id; /* stable id, [A-Za-z0-9._-]+ */
  uint32_t smi_version;  /* SMI_VERSION the plugin was built against */
  void* private_data;    /* the plugin's own; the host never touches it */
  /* Members below are read only when struct_size covers them; 0 (a seed-style descriptor)
   * means none of them. */
  uint32_t struct_size;        /* sizeof(smi_plugin_t) of the plugin */
  uint32_t flags;              /* SMI_PLUGIN_FLAG_* */
  const smi_plugin_ext_t* ext; /* may be NULL */
} smi_plugin_t;

/* The symbol every plugin library exports. Called once per load; returns NULL on failure. */
typedef smi_plugin_t* (*smi_plugin_init_fn)(void);
SMI_EXPORT smi_plugin_t* smi_plugin_init(void);

#define SMI_PLUGIN_INIT_SYMBOL "smi_plugin_init"

/* Optional (SMI 1.1): the training table. The host looks it up only in plugins whose
 * smi_version has minor >= 1, after initialize; NULL means "no training". The table stays valid
 * until cleanup returns; its members are read only when struct_size covers them. */
typedef const smi_training_api_t* (*smi_plugin_training_fn)(void);

#define SMI_PLUGIN_TRAINING_SYMBOL "smi_plugin_training"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MLOS_SMI_SPEC_H_ */
