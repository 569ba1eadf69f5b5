"""Training throughput: MLOS (bench_training, TrainingManager on libtorch) against plain PyTorch
(Debian's python3-torch) on the same TorchScript model, data, batch size, optimizer, steps and
threads, in one run. Prints one JSON line per model with both samples/s and their ratio.
Usage: run_bench.py BENCH_TRAINING_BINARY [--threads N] [--steps-mlp N] [--steps-lm N]"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402


def plain_pytorch(model_path, x, y, steps, batch, threads, lr, lm):
    """The reference loop: the same TorchScript module, Adam, a seeded shuffle per epoch."""
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    m = torch.jit.load(model_path)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    n = x.shape[0]
    gen = np.random.default_rng(1)
    order = gen.permutation(n)
    pos = 0
    samples = 0
    start = time.perf_counter()
    for _ in range(steps):
        if pos >= n:
            order, pos = gen.permutation(n), 0
        idx = torch.from_numpy(order[pos:pos + batch])
        pos += batch
        xb, yb = x[idx], y[idx]
        out = m(xb)
        if lm:
            loss = torch.nn.functional.cross_entropy(out.reshape(-1, out.size(-1)), yb.reshape(-1))
        else:
            loss = torch.nn.functional.cross_entropy(out, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        samples += xb.shape[0]
    return samples / (time.perf_counter() - start)


def ours(binary, model, data, steps, batch, threads, lr, context=None):
    cmd = [binary, model, data, str(steps), str(batch), str(threads), "adam", str(lr)]
    if context:
        cmd.append(str(context))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["samples_per_second"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps-mlp", type=int, default=2000)
    ap.add_argument("--steps-lm", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3,
                    help="interleaved runs of each side; the best of each is reported")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        models.write_digits(d)
        models.write_charlm(d, models.DEFAULT_CORPUS)
        table = np.loadtxt(os.path.join(d, "digits.csv"), delimiter=",", dtype=np.float32)
        x = torch.from_numpy(table[:, :-1].copy())
        y = torch.from_numpy(table[:, -1].astype(np.int64))
        cases = [("digits_mlp", os.path.join(d, "mlp.pt"), os.path.join(d, "digits.csv"), x, y,
                  a.steps_mlp, 32, 1e-3, False, None)]
        data, vocab = models.corpus_vocab(models.DEFAULT_CORPUS)
        index = {b: i for i, b in enumerate(vocab)}
        tokens = np.array([index[b] for b in data], dtype=np.int64)
        ctx = 64
        n = (len(tokens) - 1) // ctx
        lx = torch.from_numpy(np.stack([tokens[i * ctx:i * ctx + ctx] for i in range(n)]))
        ly = torch.from_numpy(np.stack([tokens[i * ctx + 1:i * ctx + ctx + 1] for i in range(n)]))
        cases.append(("char_transformer", os.path.join(d, "charlm.pt"), models.DEFAULT_CORPUS, lx,
                      ly, a.steps_lm, 16, 1e-3, True, ctx))
        for name, model, dataset, cx, cy, steps, batch, lr, lm, context in cases:
            # Interleaved (peer, ours, peer, ours, ...) so that load from other processes hits
            # both sides alike; the best run of each side is compared.
            peer = mine = 0.0
            for _ in range(a.repeats):
                peer = max(peer, plain_pytorch(model, cx, cy, steps, batch, a.threads, lr, lm))
                mine = max(mine, ours(a.binary, model, dataset, steps, batch, a.threads, lr,
                                      context))
            print(json.dumps({"model": name, "threads": a.threads, "steps": steps, "batch": batch,
                              "repeats": a.repeats,
                              "mlos_samples_per_s": round(mine, 1),
                              "pytorch_samples_per_s": round(peer, 1),
                              "ratio": round(mine / peer, 3)}), flush=True)


if __name__ == "__main__":
    main()
