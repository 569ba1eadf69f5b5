// onnx-runtime-builtin: the native ONNX engine (graph::Session) served as an SMI plugin.
// It is compiled into the host library but reached only through the smi_plugin_t this function
// returns, exactly like a plugin loaded from a shared library.
//
// Ownership: the descriptor is a process-wide constant; per-model state lives behind each model
// handle. Thread-safety: declares SMI_PLUGIN_FLAG_THREAD_SAFE (Session::Run is reentrant).
#pragma once

#include "mlos/smi_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MLOS_ONNX_BUILTIN_PLUGIN_ID "onnx-runtime-builtin"

smi_plugin_t* mlos_onnx_builtin_plugin_init(void);

#ifdef __cplusplus
}
#endif
