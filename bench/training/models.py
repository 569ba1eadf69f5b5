"""Models and data for the training benchmark and tests, written with Debian's python3-torch:
  digits   scikit-learn's digits as digits.csv (features / 16, label last) and an MLP 64-32-10
  charlm   a character-level transformer LM (2 layers, d_model 64, 4 heads, context 64) whose
           vocabulary is the sorted distinct bytes of a text corpus (as MLOS's text loader does)
Usage: models.py OUT_DIR [CORPUS]"""
import os
import sys

import numpy as np
import torch

DEFAULT_CORPUS = "/usr/share/common-licenses/GPL-3"  # shipped by Debian's base-files


def digits_mlp():
    torch.manual_seed(1234)
    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


def write_digits(out):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.float32)
    table = np.concatenate([x, y[:, None]], axis=1)
    np.savetxt(os.path.join(out, "digits.csv"), table, delimiter=",", fmt="%.6g")
    torch.jit.script(digits_mlp()).save(os.path.join(out, "mlp.pt"))


class CharTransformer(torch.nn.Module):
    def __init__(self, vocab: int, context: int = 64, d_model: int = 64, heads: int = 4,
                 layers: int = 2):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.pos = torch.nn.Parameter(torch.randn(context, d_model) * 0.02)
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0,
                                                 batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers)
        self.head = torch.nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        t = tokens.size(1)
        h = self.embed(tokens) + self.pos[:t]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        return self.head(self.encoder(h, mask=mask))


def corpus_vocab(corpus):
    data = open(corpus, "rb").read()
    vocab = sorted(set(data))
    return data, vocab


def write_charlm(out, corpus):
    _, vocab = corpus_vocab(corpus)
    torch.manual_seed(4321)
    torch.jit.script(CharTransformer(len(vocab))).save(os.path.join(out, "charlm.pt"))


if __name__ == "__main__":
    out = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_CORPUS
    os.makedirs(out, exist_ok=True)
    write_digits(out)
    write_charlm(out, corpus)
