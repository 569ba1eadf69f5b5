"""mlos_smi: write MLOS SMI plugins in Python.

A plugin is a subclass of :class:`Plugin` whose instance the script hands to
:func:`register_plugin`. The MLOS Python plugin host (libmlos_smi_python.so) runs the script,
picks up the registered instance and routes the SMI calls (docs/SMI.md) to its methods::

    import mlos_smi

    class MyMLPlugin(mlos_smi.Plugin):
        def initialize(self, config):
            return mlos_smi.SUCCESS

        def register_model(self, metadata):
            return mlos_smi.SUCCESS

        def inference(self, handle, input_data):
            return output_data, mlos_smi.SUCCESS

    mlos_smi.register_plugin(MyMLPlugin())

Methods return a status code (SUCCESS or one of the ERROR_* constants) or a tuple
``(value, status)``. An exception raised by a method becomes a clean error of that request,
with the exception's type and message; it never takes the host down.

Typed tensors: a plugin that overrides :meth:`Plugin.tensor_inference` receives a dict of
numpy arrays (read-only views of the caller's memory, valid during the call only) and returns a
dict of arrays (or a list in the order of its declared outputs).
"""

import json
import os
import runpy
import sys
import threading
import traceback

__all__ = [
    "Plugin",
    "register_plugin",
    "registered_plugin",
    "SUCCESS",
    "ERROR_INVALID_PARAM",
    "ERROR_OUT_OF_MEMORY",
    "ERROR_NOT_FOUND",
    "ERROR_NOT_SUPPORTED",
    "ERROR_RUNTIME",
    "ERROR_BUFFER_TOO_SMALL",
    "ERROR_VERSION_MISMATCH",
    "SMI_VERSION",
    "PluginError",
]

# Status codes, equal to smi_status_t in mlos/smi_spec.h.
SUCCESS = 0
ERROR_INVALID_PARAM = -1
ERROR_OUT_OF_MEMORY = -2
ERROR_NOT_FOUND = -3
ERROR_NOT_SUPPORTED = -4
ERROR_RUNTIME = -5
ERROR_BUFFER_TOO_SMALL = -6
ERROR_VERSION_MISMATCH = -7

# The SMI version of include/mlos/smi_spec.h (tests/unit/training_service/
# smi_python_version_test.cc keeps them equal). 1.1 added the optional training entries
# (smi_plugin_training), 1.2 the optional output bindings of the sink; Python plugins use
# neither, which the spec allows (their outputs are copied as before).
SMI_VERSION_MAJOR = 1
SMI_VERSION_MINOR = 2
SMI_VERSION_PATCH = 0
SMI_VERSION = (SMI_VERSION_MAJOR << 16) | (SMI_VERSION_MINOR << 8) | SMI_VERSION_PATCH

_STATUS_CODES = frozenset(
    [SUCCESS, ERROR_INVALID_PARAM, ERROR_OUT_OF_MEMORY, ERROR_NOT_FOUND, ERROR_NOT_SUPPORTED,
     ERROR_RUNTIME, ERROR_BUFFER_TOO_SMALL, ERROR_VERSION_MISMATCH])

# smi_dtype_t codes (the ONNX TensorProto numbering) and their numpy names.
_DTYPE_NAMES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
}
_DTYPE_CODES = {name: code for code, name in _DTYPE_NAMES.items()}


class PluginError(Exception):
    """Raise with a status code to fail a call with that code and a message."""

    def __init__(self, message, status=ERROR_RUNTIME):
        super().__init__(message)
        self.status = status


class Plugin:
    """Base class of Python SMI plugins. Override what your plugin does; the defaults succeed
    (lifecycle) or report ERROR_NOT_SUPPORTED (inference)."""

    #: Shown in GET /plugins; defaults to the class name.
    name = None
    version = "0.0.0"
    #: Frameworks this plugin serves, e.g. ["sklearn"]; used to pick a plugin for a manifest.
    frameworks = ()

    def initialize(self, config):
        return SUCCESS

    def cleanup(self):
        return SUCCESS

    def register_model(self, metadata):
        """metadata: dict with model_id, path, framework, execution_format. Return a status,
        or (handle, status) to choose the handle later calls receive (default: the model id)."""
        return SUCCESS

    def unregister_model(self, handle):
        return SUCCESS

    def load_model(self, handle, path):
        return SUCCESS

    def unload_model(self, handle):
        return SUCCESS

    def inference(self, handle, input_data):
        """input_data: bytes. Return (output, status); output may be bytes, str, a numpy array
        (its raw bytes), or a dict/list (sent as JSON)."""
        return b"", ERROR_NOT_SUPPORTED

    def tensor_inference(self, handle, inputs):
        """inputs: dict name -> numpy array. Return (dict name -> array, status)."""
        return None, ERROR_NOT_SUPPORTED

    def get_model_info(self, handle):
        """Return {"inputs": [(name, dtype, shape)], "outputs": [...]} (dtype a numpy name, shape
        a list with -1 for dynamic dimensions), or None when unknown."""
        return None

    def allocate_resources(self, resources):
        return SUCCESS

    def deallocate_resources(self):
        return SUCCESS


_lock = threading.Lock()
_registered = []


def register_plugin(plugin):
    """Registers `plugin` (a Plugin instance) as the plugin this script provides."""
    if not isinstance(plugin, Plugin):
        raise TypeError("register_plugin expects an instance of mlos_smi.Plugin, got %s"
                        % type(plugin).__name__)
    with _lock:
        _registered.append(plugin)
    return SUCCESS


def registered_plugin():
    """The most recently registered plugin, or None."""
    with _lock:
        return _registered[-1] if _registered else None


# ---- the bridge the C host calls -------------------------------------------------------------
# Every bridge method returns (status, message, value) and never raises: a plugin's exception
# becomes ERROR_RUNTIME with "Type: message (file:line in function)".


def _describe_exception(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = " (%s:%d in %s)" % (os.path.basename(last.filename), last.lineno, last.name)
    return "%s: %s%s" % (type(exc).__name__, exc, where)


def _split(result, default_value=None):
    """Normalises a plugin method's return: status, (value, status) or a bare value."""
    if isinstance(result, bool):
        return default_value, (SUCCESS if result else ERROR_RUNTIME)
    if isinstance(result, int):
        return default_value, result
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], int) \
            and not isinstance(result[1], bool):
        return result[0], result[1]
    if result is None:
        return default_value, SUCCESS
    return result, SUCCESS


def _status_checked(status):
    if status not in _STATUS_CODES:
        return ERROR_RUNTIME, "plugin returned unknown status code %r" % (status,)
    return status, None


def _to_bytes(value):
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if hasattr(value, "tobytes") and hasattr(value, "dtype"):
        return value.tobytes()
    return json.dumps(value, default=_json_default).encode("utf-8")


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError("cannot encode %s as JSON" % type(obj).__name__)


class _Bridge:
    def __init__(self, plugin, config):
        self.plugin = plugin
        self.config = config
        cls = type(plugin)
        self.has_tensor_inference = cls.tensor_inference is not Plugin.tensor_inference
        self.has_inference = cls.inference is not Plugin.inference or not self.has_tensor_inference

    def _call(self, fn, *args, default=None):
        try:
            value, status = _split(fn(*args), default)
        except PluginError as e:
            return e.status if e.status in _STATUS_CODES and e.status != SUCCESS \
                else ERROR_RUNTIME, _describe_exception(e), None
        except Exception as e:  # noqa: BLE001 -- any plugin error becomes a request error
            return ERROR_RUNTIME, _describe_exception(e), None
        status, msg = _status_checked(status)
        if status != SUCCESS and msg is None:
            msg = value if isinstance(value, str) else None
        return status, msg, value

    def name(self):
        return str(self.plugin.name or type(self.plugin).__name__)

    def version(self):
        return str(self.plugin.version or "0.0.0")

    def frameworks(self):
        fw = self.plugin.frameworks
        if isinstance(fw, str):
            fw = [fw]
        return ",".join(str(f).strip().lower() for f in (fw or ()))

    def initialize(self):
        return self._call(self.plugin.initialize, self.config)

    def cleanup(self):
        return self._call(self.plugin.cleanup)

    def register_model(self, metadata_json):
        try:
            metadata = json.loads(metadata_json)
        except ValueError as e:
            return ERROR_INVALID_PARAM, "bad metadata: %s" % e, None
        return self._call(self.plugin.register_model, metadata,
                          default=metadata.get("model_id"))

    def unregister_model(self, handle):
        return self._call(self.plugin.unregister_model, handle)

    def load_model(self, handle, path):
        return self._call(self.plugin.load_model, handle, path)

    def unload_model(self, handle):
        return self._call(self.plugin.unload_model, handle)

    def allocate_resources(self, resources_json):
        try:
            resources = json.loads(resources_json)
        except ValueError:
            resources = resources_json
        return self._call(self.plugin.allocate_resources, resources)

    def deallocate_resources(self):
        return self._call(self.plugin.deallocate_resources)

    def inference(self, handle, data):
        status, msg, value = self._call(self.plugin.inference, handle, data)
        if status != SUCCESS:
            return status, msg, None
        try:
            return SUCCESS, None, _to_bytes(value)
        except Exception as e:  # noqa: BLE001
            return ERROR_RUNTIME, "inference returned an unusable output: " + \
                _describe_exception(e), None

    def get_model_info(self, handle):
        status, msg, info = self._call(self.plugin.get_model_info, handle)
        if status != SUCCESS or info is None:
            return status, msg, None
        try:
            def table(key):
                out = []
                for name, dtype, shape in info.get(key, ()):
                    code = _dtype_code(dtype)
                    out.append((str(name), code, tuple(int(d) for d in shape)))
                return out
            return SUCCESS, None, (table("inputs"), table("outputs"))
        except Exception as e:  # noqa: BLE001
            return ERROR_RUNTIME, "get_model_info returned a bad table: " + \
                _describe_exception(e), None

    def tensor_inference(self, handle, inputs):
        """inputs: list of (name, dtype_code, shape, memoryview)."""
        try:
            import numpy as np
            arrays = {}
            for name, code, shape, mem in inputs:
                arr = np.frombuffer(mem, dtype=_DTYPE_NAMES[code]).reshape(shape)
                arrays[name] = arr
        except Exception as e:  # noqa: BLE001
            return ERROR_INVALID_PARAM, "bad input tensors: " + _describe_exception(e), None
        status, msg, value = self._call(self.plugin.tensor_inference, handle, arrays)
        if status != SUCCESS:
            return status, msg, None
        try:
            if isinstance(value, dict):
                items = list(value.items())
            else:
                items = [("output_%d" % i, v) for i, v in enumerate(value or ())]
            outs = []
            for name, v in items:
                arr = np.ascontiguousarray(np.asarray(v))
                code = _dtype_code(arr.dtype.name)
                outs.append((str(name), code, tuple(int(d) for d in arr.shape), arr))
            return SUCCESS, None, outs
        except Exception as e:  # noqa: BLE001
            return ERROR_RUNTIME, "tensor_inference returned unusable outputs: " + \
                _describe_exception(e), None


def _dtype_code(dtype):
    name = getattr(dtype, "name", None) or str(dtype)
    if name not in _DTYPE_CODES:
        raise TypeError("dtype %s cannot cross the SMI boundary" % name)
    return _DTYPE_CODES[name]


def _host_load(script, config_json):
    """Runs `script` and returns a _Bridge over the plugin it registered. Called by the host
    with the GIL held; raises with a readable message when the script registers nothing."""
    config = json.loads(config_json) if config_json else {}
    with _lock:
        before = len(_registered)
    script_dir = os.path.dirname(os.path.abspath(script))
    if script_dir not in sys.path:
        sys.path.insert(0, script_dir)
    runpy.run_path(script, run_name="__mlos_plugin__")
    with _lock:
        if len(_registered) == before:
            raise RuntimeError("%s did not call mlos_smi.register_plugin()" % script)
        plugin = _registered.pop()
    return _Bridge(plugin, config)
