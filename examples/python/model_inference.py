"""The seed's Python example ("Python: Model Inference"), as written, on the embedded digits model.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/model_inference.py
    MLOS_ENDPOINT=unix://$XDG_RUNTIME_DIR/mlos.sock PYTHONPATH=build/python \
        /usr/bin/python3 examples/python/model_inference.py      # the same, through mlos_core
"""
import json
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
model_dir = os.path.join(here, "..", "..", "models", "mlos", "digits", "1.0.0")
model_path = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(model_dir)
heldout = json.load(open(os.path.join(model_path, "heldout.json")))
input_data = np.array(heldout["pixels"][:4], dtype=np.float32)

# ---- the seed's example, unchanged apart from the path ----
import ml_llm_kernel_api as kernel

api = kernel.KernelAPI()
model = api.load_model(model_path)
output = api.run_inference(model, input_data)
print(output)
