#!/usr/bin/python3
"""Exports small PyTorch models with torch.onnx, runs them with `mlosctl run` and compares the
outputs with PyTorch's (rtol 1e-3, atol 1e-4). usage: torch_parity.py MLOSCTL WORKDIR
Models: a CNN (conv, batchnorm, relu, pooling, linear), a transformer encoder with a key-padding
attention mask and a causal mask, an LSTM (bidirectional, 2 layers), a GRU."""
import os
import subprocess
import sys

import numpy as np

for _a, _b in [("float", float), ("int", int), ("bool", bool), ("object", object)]:
    if not hasattr(np, _a):
        setattr(np, _a, _b)

import torch  # noqa: E402

MLOSCTL, WORK = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
RTOL, ATOL = 1e-3, 1e-4


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.f = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3, stride=2, groups=2), torch.nn.ReLU6(),
            torch.nn.Conv2d(16, 16, 3, padding=1, groups=16), torch.nn.SiLU(),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 5))

    def forward(self, x):
        return torch.softmax(self.f(x), dim=-1)


class Encoder(torch.nn.Module):
    def __init__(self, causal):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, activation="gelu",
                                                 norm_first=causal)
        self.enc = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.causal = causal

    def forward(self, x, pad_mask):
        t = x.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1) if self.causal else None
        return self.enc(x, mask=mask, src_key_padding_mask=pad_mask)


class Lstm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(10, 16, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = torch.nn.GRU(32, 8, batch_first=True)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        z, hz = self.gru(y)
        return z, h, c, hz


def case(name, model, inputs, in_names, out_names, opset):
    d = os.path.join(WORK, name)
    os.makedirs(d, exist_ok=True)
    model.eval()
    with torch.no_grad():
        want = model(*inputs)
    if not isinstance(want, tuple):
        want = (want,)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(model, tuple(inputs), path, input_names=in_names, output_names=out_names,
                      opset_version=opset)
    args = [MLOSCTL, "run", path, "--output-dir", os.path.join(d, "out")]
    for n, x in zip(in_names, inputs):
        f = os.path.join(d, n + ".npy")
        np.save(f, x.numpy())
        args += ["--input", f"{n}={f}"]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {name}: mlosctl run failed: {r.stderr.strip()[-500:]}")
        return False
    ok = True
    for n, w in zip(out_names, want):
        got = np.load(os.path.join(d, "out", n + ".npy"))
        w = w.numpy()
        if got.shape != w.shape or not np.allclose(got, w, rtol=RTOL, atol=ATOL, equal_nan=True):
            err = np.max(np.abs(got - w)) if got.shape == w.shape else f"shape {got.shape} != {w.shape}"
            print(f"FAIL {name} output {n}: max abs error {err}")
            ok = False
    if ok:
        print(f"PASS {name}")
    return ok


results = []
for opset in (14, 17):
    results.append(case(f"cnn_op{opset}", Cnn(), [torch.rand(2, 3, 16, 16)], ["x"], ["p"], opset))
    pad = torch.zeros(2, 7, dtype=torch.bool)
    pad[1, 5:] = True
    for causal in (False, True):
        results.append(case(f"encoder_{'causal' if causal else 'padmask'}_op{opset}", Encoder(causal),
                            [torch.randn(2, 7, 32), pad], ["x", "pad_mask"], ["y"], opset))
    results.append(case(f"lstm_gru_op{opset}", Lstm(), [torch.randn(3, 6, 10)], ["x"],
                        ["z", "h", "c", "hz"], opset))
print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if all(results) else 1)
