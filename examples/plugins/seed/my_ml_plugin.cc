// The seed's "C Plugin Example" (seeds/mlos-core.md), as written, with the functions it elides
// ("// ... implement other functions") filled in.
//
// It is compiled as C++: C99 requires constant initializers for a static object, and the seed
// initializes `plugin.interface` from the variable `my_interface`, which C accepts only at run
// time. In C, write the interface inline instead (examples/plugins/c/scale_plugin.c).
#include "mlos/smi_spec.h"

#include <cstring>

static smi_status_t my_initialize(const char* config) {
    // Initialize your ML framework
    (void)config;
    return SMI_SUCCESS;
}

static smi_status_t my_register_model(const char* metadata, smi_model_handle_t* handle) {
    // Keep the host's handle; this plugin holds no per-model state.
    (void)metadata;
    (void)handle;
    return SMI_SUCCESS;
}

// Echoes the request, upper-cased: enough to see a request go through the ABI and back.
static smi_status_t my_inference(smi_model_handle_t handle, const void* input, size_t input_size,
                                 void* output, size_t* output_size) {
    (void)handle;
    if (*output_size < input_size) {
        *output_size = input_size;
        return SMI_ERROR_BUFFER_TOO_SMALL;
    }
    const char* in = static_cast<const char*>(input);
    char* out = static_cast<char*>(output);
    for (size_t i = 0; i < input_size; ++i) {
        out[i] = (in[i] >= 'a' && in[i] <= 'z') ? static_cast<char>(in[i] - 'a' + 'A') : in[i];
    }
    *output_size = input_size;
    return SMI_SUCCESS;
}

static smi_plugin_interface_t my_interface = {
    .initialize = my_initialize,
    .register_model = my_register_model,
    .inference = my_inference,
    // ... implement other functions
};

smi_plugin_t* smi_plugin_init(void) {
    static smi_plugin_t plugin = {
        .interface = my_interface,
        .plugin_id = "my-ml-plugin",
        .smi_version = SMI_VERSION_MAJOR << 16 | SMI_VERSION_MINOR << 8 | SMI_VERSION_PATCH
    };
    return &plugin;
}
