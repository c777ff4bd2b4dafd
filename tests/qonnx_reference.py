#!/usr/bin/python3
"""A reference evaluator of QONNX models, written apart from hao's exporter: NumPy only, from
the ONNX operator definitions and QONNX's Quant specification (qonnx docs/qonnx-custom-ops/
quant_op.md: scale, clamp to the integer range, round half to even, rescale).

Usage: qonnx_reference.py MODEL.onnx INPUT.npy EXPECTED.npy [--json]

Checks the model with onnx.checker, runs it on INPUT (N images, batch by batch) and compares
with EXPECTED (N x classes, hao's own quantized logits): prints the share of images whose top
class agrees and how many images' logits differ at all. Float rounding (another summation order
in a convolution) can move a value that sits at a rounding tie (x / scale = k + 0.5 within a few
ulps) to the other integer; every image whose logits differ must hold such a value. Exit 0 when
every top class agrees and every difference is explained so, 1 otherwise, 2 for a model it
cannot run (an op it does not know, named)."""

import json
import math
import sys

import numpy as np
import onnx
from onnx import numpy_helper

QONNX_DOMAINS = ("qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas")


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def near_ties(y):
    """Per image (first axis), the values within a few float32 ulps of a rounding tie k + 0.5:
    there, float rounding in what comes before may round them the other way."""
    tol = 8 * np.finfo(np.float32).eps * np.maximum(1.0, np.abs(y))
    close = np.abs(y - np.floor(y) - 0.5) < tol
    return close.reshape(close.shape[0], -1).sum(axis=1)


def quant(x, scale, zeropt, bits, signed, narrow, rounding, ties=None):
    if rounding.upper() != "ROUND":
        raise ValueError("rounding_mode %s" % rounding)
    bits = float(bits)
    if signed:
        lo = -(2 ** (bits - 1)) + (1 if narrow else 0)
        hi = 2 ** (bits - 1) - 1
    else:
        lo = 0
        hi = 2**bits - (2 if narrow else 1)
    y = x / scale + zeropt
    y = np.clip(y, lo, hi)
    if ties is not None:
        ties += near_ties(y)
    y = np.round(y)  # half to even, as ROUND
    return ((y - zeropt) * scale).astype(np.float32)


def pad_nchw(x, pads, value):
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def windows(x, kh, kw, sh, sw, dh=1, dw=1):
    """N x C x OH x OW x kh x kw views of x (already padded), taps dh and dw apart."""
    n, c, h, w = x.shape
    oh = (h - (kh - 1) * dh - 1) // sh + 1
    ow = (w - (kw - 1) * dw - 1) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw))


def conv(x, w, b, a):
    kh, kw = w.shape[2], w.shape[3]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    group = a.get("group", 1)
    x = pad_nchw(x, a.get("pads", [0, 0, 0, 0]), 0.0)
    win = windows(np.ascontiguousarray(x), kh, kw, sh, sw, dh, dw)  # N C OH OW kh kw
    n, cin = x.shape[0], x.shape[1]
    cout = w.shape[0]
    cin_g, cout_g = cin // group, cout // group
    outs = []
    for g in range(group):
        xg = win[:, g * cin_g:(g + 1) * cin_g]  # N cin_g OH OW kh kw
        wg = w[g * cout_g:(g + 1) * cout_g]  # cout_g cin_g kh kw
        outs.append(np.einsum("ncijkl,ockl->noij", xg, wg, optimize=True))
    y = np.concatenate(outs, axis=1).astype(np.float32)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def depthwise(x, w, b, a):
    kh, kw = w.shape[2], w.shape[3]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    x = pad_nchw(x, a.get("pads", [0, 0, 0, 0]), 0.0)
    win = windows(np.ascontiguousarray(x), kh, kw, sh, sw, dh, dw)
    y = np.einsum("ncijkl,ckl->ncij", win, w[:, 0], optimize=True).astype(np.float32)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def conv_transpose(x, w, b, a):
    """ONNX ConvTranspose by its definition: input pixel (i, j) adds its value times the kernel
    at output (i s_h + u - pad_top, j s_w + v - pad_left) for every tap (u, v)."""
    if any(d != 1 for d in a.get("dilations", [1, 1])) or "output_shape" in a:
        raise KeyError("ConvTranspose with dilations or output_shape")
    kh, kw = w.shape[2], w.shape[3]
    sh, sw = a.get("strides", [1, 1])
    top, left, bottom, right = a.get("pads", [0, 0, 0, 0])
    extra_h, extra_w = a.get("output_padding", [0, 0])
    group = a.get("group", 1)
    n, cin, h, wd = x.shape
    cin_g, cout_g = cin // group, w.shape[1]
    full = np.zeros((n, cout_g * group, sh * (h - 1) + kh + extra_h, sw * (wd - 1) + kw + extra_w),
                    dtype=np.float32)
    for g in range(group):
        xg = x[:, g * cin_g:(g + 1) * cin_g]
        for u in range(kh):
            for v in range(kw):
                part = np.einsum("nchw,co->nohw", xg, w[g * cin_g:(g + 1) * cin_g, :, u, v])
                full[:, g * cout_g:(g + 1) * cout_g, u:u + sh * (h - 1) + 1:sh,
                     v:v + sw * (wd - 1) + 1:sw] += part
    oh = sh * (h - 1) + extra_h + kh - top - bottom
    ow = sw * (wd - 1) + extra_w + kw - left - right
    y = full[:, :, top:top + oh, left:left + ow]
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return np.ascontiguousarray(y, dtype=np.float32)


def pool(x, a, kind):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    if a.get("ceil_mode", 0):
        raise ValueError("ceil_mode pooling")
    pads = a.get("pads", [0, 0, 0, 0])
    if kind == "max":
        win = windows(pad_nchw(x, pads, -np.inf), kh, kw, sh, sw)
        return win.max(axis=(4, 5))
    if not a.get("count_include_pad", 0) and any(pads):
        raise ValueError("AveragePool without count_include_pad over padding")
    win = windows(pad_nchw(x, pads, 0.0), kh, kw, sh, sw)
    return win.mean(axis=(4, 5), dtype=np.float32)


def resize_nearest(x, scales, a):
    """ONNX Resize, mode nearest, by scales over H and W: output index i reads input index
    nearest_mode(x_original(i)), x_original per coordinate_transformation_mode."""
    text = lambda k, d: (a.get(k, d).decode() if isinstance(a.get(k, d), bytes) else a.get(k, d))
    if text("mode", "nearest") != "nearest" or scales[0] != 1 or scales[1] != 1:
        raise KeyError("Resize other than nearest over H and W")
    ctm = text("coordinate_transformation_mode", "half_pixel")
    rounding = text("nearest_mode", "round_prefer_floor")
    y = x
    for axis in (2, 3):
        size_in = x.shape[axis]
        scale = float(scales[axis])
        size_out = int(math.floor(size_in * scale))
        i = np.arange(size_out, dtype=np.float64)
        if ctm == "asymmetric":
            orig = i / scale
        elif ctm in ("half_pixel", "pytorch_half_pixel"):
            orig = (i + 0.5) / scale - 0.5
        else:
            raise KeyError("Resize coordinate_transformation_mode %s" % ctm)
        if rounding == "floor":
            index = np.floor(orig)
        elif rounding == "round_prefer_floor":
            index = np.ceil(orig - 0.5)
        else:
            raise KeyError("Resize nearest_mode %s" % rounding)
        index = np.clip(index, 0, size_in - 1).astype(np.int64)
        y = np.take(y, index, axis=axis)
    return y


def run(model, x, ties=None):
    g = model.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    constants = set(env)
    env[g.input[0].name] = x.astype(np.float32)
    for node in g.node:
        a = attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        custom = node.domain not in ("", "ai.onnx")
        if custom and node.domain not in QONNX_DOMAINS:
            raise KeyError("op %s of domain %s" % (op, node.domain))
        if custom and op == "Quant":
            rounding = a.get("rounding_mode", "ROUND")
            if isinstance(rounding, bytes):
                rounding = rounding.decode()
            y = quant(ins[0], ins[1], ins[2], ins[3], a.get("signed", 1), a.get("narrow", 0),
                      rounding, None if node.input[0] in constants else ties)
        elif custom and op == "BipolarQuant":
            y = np.where(ins[0] >= 0, 1.0, -1.0).astype(np.float32) * ins[1]
        elif custom:
            raise KeyError("op %s of domain %s" % (op, node.domain))
        elif op == "Conv":
            w = ins[1]
            b = ins[2] if len(ins) > 2 else None
            group = a.get("group", 1)
            if group > 1 and group == w.shape[0] and w.shape[1] == 1:
                y = depthwise(ins[0], w, b, a)
            else:
                y = conv(ins[0], w, b, a)
        elif op == "ConvTranspose":
            y = conv_transpose(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "Gemm":
            w = ins[1].T if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * (ins[0] @ w)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
        elif op == "MatMul":
            y = ins[0] @ ins[1]
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "Sub":
            y = ins[0] - ins[1]
        elif op == "Mul":
            y = ins[0] * ins[1]
        elif op == "Div":
            y = ins[0] / ins[1]
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Clip":
            y = np.clip(ins[0], ins[1], ins[2])
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-ins[0]))
        elif op == "Tanh":
            y = np.tanh(ins[0])
        elif op == "LeakyRelu":
            y = np.where(ins[0] < 0, np.float32(a.get("alpha", 0.01)) * ins[0], ins[0])
        elif op == "Erf":
            y = np.vectorize(math.erf, otypes=[ins[0].dtype])(ins[0])
        elif op == "HardSigmoid":
            y = np.clip(a.get("alpha", 0.2) * ins[0] + a.get("beta", 0.5), 0, 1)
        elif op == "MaxPool":
            y = pool(ins[0], a, "max")
        elif op == "AveragePool":
            y = pool(ins[0], a, "avg")
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True, dtype=np.float32)
        elif op == "Concat":
            y = np.concatenate(ins, axis=a.get("axis", 1))
        elif op == "Resize":
            y = resize_nearest(ins[0], ins[2], a)
        elif op == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Reshape":
            shape = [int(s) for s in ins[1]]
            shape[0] = ins[0].shape[0] if shape[0] in (1, -1) else shape[0]
            y = ins[0].reshape(shape)
        else:
            raise KeyError("op %s" % op)
        env[node.output[0]] = np.asarray(y, dtype=np.float32)
    return env[g.output[0].name]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model = onnx.load(args[0])
    onnx.checker.check_model(model)
    x = np.load(args[1])
    expected = np.load(args[2])
    ties = np.zeros(len(x), dtype=np.int64)
    try:
        logits = np.concatenate([run(model, x[i:i + 100], ties[i:i + 100])
                                 for i in range(0, len(x), 100)])
    except (KeyError, ValueError) as e:
        print("qonnx_reference: cannot run %s: %s" % (args[0], e), file=sys.stderr)
        return 2
    agree = int((logits.argmax(1) == expected.argmax(1)).sum())
    per_image = np.abs(logits - expected).max(axis=1)
    scale = float(np.abs(expected).max())
    differ = per_image > 1e-5 * max(1.0, scale)
    result = {"images": int(len(x)), "top1_agree": agree,
              "max_abs_logit_diff": float(per_image.max()), "max_abs_logit": scale,
              "logits_differ": int(differ.sum()),
              # every image whose logits differ must hold a value at a rounding tie
              "differ_without_tie": int((differ & (ties == 0)).sum()),
              "images_with_ties": int((ties > 0).sum()),
              "ops": sorted({n.op_type for n in model.graph.node})}
    if "--json" in sys.argv:
        print(json.dumps(result))
    else:
        print("%d images: top class agrees on %d (%.2f%%); logits equal on %d; the %d that "
              "differ (by up to %.3g, logits up to %.3g) each hold a value at a rounding tie: %s"
              % (len(x), agree, 100.0 * agree / len(x), len(x) - result["logits_differ"],
                 result["logits_differ"], result["max_abs_logit_diff"], scale,
                 "yes" if result["differ_without_tie"] == 0 else
                 "no, %d do not" % result["differ_without_tie"]))
    return 0 if agree == len(x) and result["differ_without_tie"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
