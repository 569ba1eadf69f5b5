"""Writes the training tests' fixtures into argv[1]: scikit-learn's digits (features scaled to
[0, 1], label last) as digits.csv, as x.npy + y.npy in digits_npy/, as digits.npz, and an
untrained TorchScript MLP (64-32-10) as mlp.pt, and big_digits.csv (below). Run with Debian's
/usr/bin/python3."""
import os
import sys

import numpy as np
import torch
from sklearn.datasets import load_digits

out = sys.argv[1]
digits = load_digits()
x = (digits.data / 16.0).astype(np.float32)
y = digits.target.astype(np.int64)
table = np.concatenate([x, y[:, None].astype(np.float32)], axis=1)
np.savetxt(os.path.join(out, "digits.csv"), table, delimiter=",", fmt="%.6g",
           header=",".join([f"f{i}" for i in range(64)] + ["label"]), comments="")
os.makedirs(os.path.join(out, "digits_npy"), exist_ok=True)
np.save(os.path.join(out, "digits_npy", "x.npy"), x)
np.save(os.path.join(out, "digits_npy", "y.npy"), y)
np.savez(os.path.join(out, "digits.npz"), x=x, y=y)

torch.manual_seed(1234)
mlp = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
torch.jit.script(mlp).save(os.path.join(out, "mlp.pt"))

# A linear regression fixture: y = 2 x0 - x1 + 0.5 (exact), and an untrained nn.Linear(2, 1).
rng = np.random.default_rng(5)
xs = rng.uniform(-1, 1, size=(512, 2)).astype(np.float32)
ys = 2 * xs[:, 0] - xs[:, 1] + 0.5
np.savetxt(os.path.join(out, "linear.csv"), np.concatenate([xs, ys[:, None]], axis=1),
           delimiter=",", fmt="%.8g")
torch.jit.script(torch.nn.Linear(2, 1)).save(os.path.join(out, "linear.pt"))

# A large table (the digits 80 times over, ~140k rows) whose loading takes long enough that a
# session is observably "starting" after StartTraining returned.
with open(os.path.join(out, "digits.csv")) as f:
    header = f.readline()
    body = f.read()
with open(os.path.join(out, "big_digits.csv"), "w") as f:
    f.write(header)
    for _ in range(80):
        f.write(body)
