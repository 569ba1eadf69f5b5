"""Writes the torch plugin tests' fixtures into argv[1]: a scripted MLP (mlp.pt) with an input
x.bin (float32 [5, 4]) and PyTorch's output y.bin (float32 [5, 3]), and a two-input module
returning a tuple (pair.pt). Run with Debian's /usr/bin/python3."""
import os
import sys

import torch

out = sys.argv[1]
torch.manual_seed(7)
mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).eval()
scripted = torch.jit.script(mlp)
scripted.save(os.path.join(out, "mlp.pt"))
x = torch.randn(5, 4)
with torch.no_grad():
    y = mlp(x)
x.numpy().tofile(os.path.join(out, "x.bin"))
y.numpy().tofile(os.path.join(out, "y.bin"))


class Pair(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor):
        return a + b, a * b


torch.jit.script(Pair()).save(os.path.join(out, "pair.pt"))
