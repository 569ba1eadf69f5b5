#!/usr/bin/python3
"""Regenerates tests/fuzz/corpus: small ONNX test models, truncated at several points and with
seeded byte mutations (flips, deleted/duplicated spans, varint bumps)."""
import os
import random
import sys

SRC = "/usr/share/libonnx-testdata/data/node"
CASES = ["test_add", "test_conv_with_strides_padding", "test_gather_0", "test_reshape_reduced_dims",
         "test_slice", "test_loop11", "test_if", "test_lstm_defaults", "test_maxpool_2d_pads",
         "test_concat_2d_axis_0", "test_softmax_axis_1", "test_sequence_insert_at_back"]
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(out, exist_ok=True)
rng = random.Random(1234)
for c in CASES:
    p = os.path.join(SRC, c, "model.onnx")
    if not os.path.exists(p):
        continue
    b = open(p, "rb").read()
    open(os.path.join(out, f"{c}.onnx"), "wb").write(b)
    for k, frac in enumerate((0.1, 0.5, 0.9)):
        open(os.path.join(out, f"{c}.trunc{k}"), "wb").write(b[: int(len(b) * frac)])
    for k in range(4):
        m = bytearray(b)
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(len(m))
            op = rng.randrange(4)
            if op == 0:
                m[i] ^= 1 << rng.randrange(8)
            elif op == 1:
                m[i] = rng.choice([0x00, 0x7f, 0x80, 0xff])
            elif op == 2:
                del m[i : i + rng.randint(1, 8)]
            else:
                m[i:i] = m[i : i + rng.randint(1, 8)]
        open(os.path.join(out, f"{c}.mut{k}"), "wb").write(bytes(m))
