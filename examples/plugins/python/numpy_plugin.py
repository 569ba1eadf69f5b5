# A Python SMI plugin on typed tensors: a "softmax model" that needs no file. Inputs arrive as
# numpy arrays viewing the caller's memory; outputs are numpy arrays.
#
# Register: curl -X POST localhost:8080/plugins/register \
#   -d '{"id":"softmax","name":"Softmax","version":"1.0.0",
#        "endpoint":"file:///abs/path/examples/plugins/python/numpy_plugin.py"}'
import numpy as np

import mlos_smi


class SoftmaxPlugin(mlos_smi.Plugin):
    name = "Softmax (Python example)"
    version = "1.0.0"
    frameworks = ["numpy-softmax"]

    def get_model_info(self, handle):
        return {"inputs": [("logits", "float32", [-1, -1])],
                "outputs": [("probs", "float32", [-1, -1])]}

    def tensor_inference(self, handle, inputs):
        if "logits" not in inputs:
            return None, mlos_smi.ERROR_INVALID_PARAM
        x = inputs["logits"].astype(np.float32)
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return {"probs": e / e.sum(axis=-1, keepdims=True)}, mlos_smi.SUCCESS

    def inference(self, handle, input_data):
        # Byte level: a JSON list of logits in, a JSON list of probabilities out.
        import json
        x = np.asarray(json.loads(input_data), dtype=np.float64)
        e = np.exp(x - x.max())
        return (e / e.sum()).tolist(), mlos_smi.SUCCESS


mlos_smi.register_plugin(SoftmaxPlugin())
