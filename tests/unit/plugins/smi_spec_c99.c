/* smi_spec.h alone, as pure C99: compiled with -std=c99 -pedantic -Werror by ctest. */
#include <mlos/smi_spec.h>

/* Use the types so unused-declaration diagnostics would surface. */
static smi_status_t check(const smi_plugin_t* p, const smi_host_api_t* h, smi_tensor_t* t) {
  (void)h;
  (void)t;
  return p->smi_version == SMI_VERSION ? SMI_SUCCESS : SMI_ERROR_VERSION_MISMATCH;
}

int main(void) {
  smi_plugin_t plugin = {{0}, "c99", SMI_VERSION, 0, sizeof(smi_plugin_t), 0, 0};
  return (int)check(&plugin, 0, 0);
}
