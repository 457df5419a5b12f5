"""`python -m assistant.training CONFIG`: train the model a config describes.

A head written to its shipped path is entered in the model registry with the hash of its
training-data list; written elsewhere (`--out`), it is a candidate and the registry is left as
it is. `--plan-only` renders and trains nothing: it prints the data list's size, split and hash
and checks that no clip the benchmark reports on is in it (exit 1 if one is).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from .. import registry
from ..recognizers import command_head as ch
from ..recognizers import stop_spotter as ss
from . import command_head, config, corpus, pain_head, stop_head

TRAINERS = {
    "stop_head": (stop_head, ss.HEAD_PATH),
    "command_head": (command_head, ch.HEAD_PATH),
    "pain_head": (pain_head, ch.PAIN_HEAD_PATH),
}


def reported_clips() -> set[str]:
    """Every real clip a benchmark scores (held-out and test-only), as data lists name them."""
    commands, sentences = corpus.s2p_clips()
    clips = [*corpus.stop_clips("held-out"), *corpus.short_word_clips("held-out"),
             *corpus.read_speech_clips(), *commands, *sentences, *corpus.back_clips()]
    return {"speech:" + c.path.resolve().relative_to(corpus.SPEECH.resolve()).as_posix() for c in clips}


def held_out_in(lines: list[str]) -> list[str]:
    """The lines of a training-data list that name a clip a benchmark reports on."""
    reported = reported_clips()
    return [line for line in lines if line.rsplit("\t", 1)[-1] in reported]


def load(path: Path) -> tuple[str, object]:
    name = config.model_of(path)
    if name not in TRAINERS:
        raise config.ConfigError(f"{path}: model: {name!r} is not one of {', '.join(TRAINERS)}")
    return name, config.load(path, TRAINERS[name][0].Config)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m assistant.training", description=__doc__.split("\n\n")[0])
    ap.add_argument("config", type=Path,
                    help="a model's config, e.g. assistant/training/configs/stop_head.yaml")
    ap.add_argument("--out", type=Path, help="where to write the head (default: its shipped path)")
    ap.add_argument("--cache", type=Path, default=stop_head.CACHE, help="renders and embeddings")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--plan-only", action="store_true", help="print the training-data list's figures only")
    ap.add_argument("--simulate", action="store_true",
                    help="command head: then run the product's recognizer on the validation clips (~10 min)")
    args = ap.parse_args(argv)
    try:
        name, cfg = load(args.config)
    except (OSError, config.ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    module, shipped = TRAINERS[name]
    if args.out is None and args.config.resolve() != config.named(name).resolve() and not args.plan_only:
        # only a model's own config may replace the shipped file and its registry entry
        print(f"error: {args.config} is not configs/{name}.yaml: give --out for the candidate",
              file=sys.stderr)
        return 2
    out = args.out or shipped
    lines = module.registry_data(cfg, args.cache, args.jobs)
    leaked = held_out_in(lines)
    if args.plan_only or leaked:
        lines = sorted(lines)  # as the registry keeps them
        splits = collections.Counter(line.removeprefix("as-other:").split("\t", 1)[0] for line in lines)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(splits.items()))
        print(f"{name}: {len(lines)} training-data lines ({counts}), sha256 {registry.data_hash(lines)}")
        entry = registry.entries().get(name)
        if entry and entry.data_hash:
            stored = set((registry.DATA_LISTS / f"{name}.txt").read_text().splitlines())
            now = set(lines)
            print(f"the shipped {name} (trained at {(entry.training_commit or '?')[:12]}) learnt from "
                  + ("this very list" if registry.data_hash(lines) == entry.data_hash else
                     f"another: {len(now - stored)} lines here are not in its list, "
                     f"{len(stored - now)} of its are not here"))
        for line in leaked[:10]:
            print(f"held-out clip in the training data: {line}", file=sys.stderr)
        return 1 if leaked else 0
    validation = module.train(cfg, out, args.cache, args.jobs)
    if out.resolve() == shipped.resolve():
        entry = registry.record(name, out, trained_by=f"python -m assistant.training {args.config}",
                                code=stop_head.TRAINING_CODE, data=lines, validation=validation)
        print(f"registry: {name} version {entry.version}, {entry.data_items} training clips")
    if args.simulate and name == "command_head":
        command_head.simulate(cfg, out, args.cache, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
