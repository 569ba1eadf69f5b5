/* A shared library that is not an SMI plugin: it exports no smi_plugin_init. */
int mlos_not_a_plugin(void) { return 1; }
