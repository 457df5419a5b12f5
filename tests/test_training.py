"""The training package: one config per shipped model, checked before any work; plans that name
every clip without rendering one, none of them a clip the benchmark reports on; and the numpy
MLP code the heads are trained with."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import numpy as np
import pytest

from assistant import registry
from assistant.recognizers import mlp_head
from assistant.recognizers import stop_spotter as ss
from assistant.training import __main__ as cli
from assistant.training import command_head, config, corpus, pain_head, stop_head
from assistant.training.augment import padded, to_int16
from assistant.training.mlp import merge, train_mlp, train_softmax
from tests.conftest import ROOT, TUNE_STOP

SHIPPED = ("stop_head", "command_head", "pain_head")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.training", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_has_a_config_that_plans_its_data_without_a_held_out_clip(name, tmp_path):
    path = config.named(name)
    model, cfg = cli.load(path)
    assert model == name
    lines = cli.TRAINERS[name][0].registry_data(cfg, tmp_path, 2)
    assert len(lines) > 5000 and not list(tmp_path.glob("*.wav"))  # planned, nothing rendered
    assert any("\tspeech:" in line for line in lines)  # real tuning clips go in
    assert cli.held_out_in(lines) == []
    # the shipped head is the one this config trains: it learnt from this very list
    entry = registry.entries()[name]
    assert entry.trained_by == f"python -m assistant.training assistant/training/configs/{name}.yaml"
    assert registry.data_hash(sorted(lines)) == entry.data_hash, (
        f"{name}: the config no longer plans the shipped head's data (a routine sentence or a "
        f"setting changed?): retrain it with `python -m assistant.training {path.relative_to(ROOT)}`")
    if name == "stop_head":  # the plan is the config's: another seed draws other voices and augmentations
        other = type(cfg)(**{**cfg.__dict__, "seed": cfg.seed + 1})
        assert sorted(cli.TRAINERS[name][0].registry_data(other, tmp_path, 2)) != sorted(lines)


def test_plan_only_prints_the_list_and_how_it_compares_with_the_shipped_head():
    done = run(str(config.named("pain_head")), "--plan-only")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^pain_head: \d{4,} training-data lines", done.stdout)
    trained_at = registry.entries()["pain_head"].training_commit[:12]
    assert f"the shipped pain_head (trained at {trained_at}) learnt from this very list" in done.stdout


def test_a_held_out_clip_in_the_plan_is_refused(monkeypatch):
    """The check itself can fail: a held-out stop slipped into the tune split is caught."""
    held = corpus.stop_clips("held-out")[0]
    line = f"train\tstop\treal-stop\t0\tspeech:{held.path.resolve().relative_to(corpus.SPEECH.resolve())}"
    assert cli.held_out_in(["train\tneg\tnoise\t5\tnoise:1", line]) == [line]


def test_a_config_with_a_mistake_names_its_file_line_and_key(tmp_path):
    good = config.named("command_head").read_text()
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(good.replace("recall_keep:", "recal_keep:"))
    line = next(i for i, s in enumerate(misspelt.read_text().splitlines(), 1) if s.startswith("recal_keep"))
    with pytest.raises(config.ConfigError, match=rf"misspelt.yaml:{line}: recal_keep: not a setting"):
        cli.load(misspelt)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(good.replace("epochs: 40", "epochs: forty"))
    with pytest.raises(config.ConfigError, match=r"wrong.yaml:\d+: epochs: expected int, got 'forty'"):
        cli.load(wrong)
    missing = tmp_path / "missing.yaml"
    missing.write_text("\n".join(s for s in good.splitlines() if not s.startswith("flite_f0")))
    with pytest.raises(config.ConfigError, match="missing settings: flite_f0"):
        cli.load(missing)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text(good.replace("model: command_head", "model: wake_word"))
    done = run(str(nameless), "--plan-only")
    assert done.returncode == 2
    assert "'wake_word' is not one of stop_head, command_head, pain_head" in done.stderr


def test_the_heads_read_each_others_configs():
    ccfg = pain_head.command_config(config.load(config.named("pain_head"), pain_head.Config))
    scfg = command_head.stop_config(ccfg)
    assert isinstance(scfg, stop_head.Config) and scfg.k == ss.load_head().k
    # the benchmark's synthetic voices are never training voices
    assert not {"+m3", "+f3"} & set(scfg.variants) and not {165, 215} & set(scfg.speeds)
    assert not {"1.0", "0.8"} & set(scfg.festival_stretches)


def test_the_command_head_validates_on_kokoro_voices_it_never_trains_on(tmp_path):
    _, cfg = cli.load(config.named("command_head"))
    items = command_head.plan(cfg, tmp_path, 2, dry=True)
    assert not list(tmp_path.glob("*.wav"))
    kokoro = [(it.split, it.text.split("[kokoro:")[1].split("|")[0].split("+"), it.label)
              for it in items if "[kokoro:" in it.text]
    val_voices = set(command_head.stop_config(cfg).kokoro_val_voices)
    assert {s for s, _, _ in kokoro} == {"train", "val"} and all(label for _, _, label in kokoro)
    for split, voices, _ in kokoro:
        assert (split == "val") == bool(val_voices & set(voices)), (split, voices)
        assert split == "train" or set(voices) <= val_voices
    # Kokoro's renders come from a generator of their own: without them, every other voice's
    # renders and augmentations are drawn as they were
    plain = dataclasses.replace(cfg, kokoro_renders_train=0, kokoro_renders_val=0, kokoro_other_renders=0)
    without = {(it.path, it.aug) for it in command_head.plan(plain, tmp_path, 2, dry=True)}
    assert without < {(it.path, it.aug) for it in items}


def test_a_real_stop_gives_positive_windows_after_the_word_and_noise_gives_negatives():
    cfg = config.load(config.named("stop_head"), stop_head.Config)
    item = stop_head.Item(str(corpus.SPEECH / TUNE_STOP), "stop", "train", "real-stop", 0)
    pos, _, seconds, end = stop_head.examples(cfg, item)
    assert len(pos) >= 2 and 0.6 < end < seconds
    noise = stop_head.Item("noise:3", "neg", "train", "noise", 12345)
    none, neg, _, _ = stop_head.examples(cfg, noise)
    assert len(none) == 0 and len(neg) >= 5
    # the shipped head, trained on such windows, fires on the word and not on the noise
    head = ss.load_head()
    assert head(pos).max() >= head.threshold > head(neg).max()


def test_the_mlps_learn_a_separable_problem_and_an_ensemble_is_its_members_mean():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4000, 8)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    members = [train_mlp(x, y, np.random.default_rng(s), epochs=40, pos_weight=1.0, hidden=16)
               for s in (1, 2)]
    heads = [mlp_head.MlpHead(m["mu"], m["sd"], m["w0"], m["b0"], m["w1"], m["b1"]) for m in members]
    for h in heads:
        assert ((h.logits(x).ravel() > 0) == (y == 1)).mean() > 0.95
    both = merge(members)
    merged = mlp_head.MlpHead(both["mu"], both["sd"], both["w0"], both["b0"], both["w1"], both["b1"])
    assert np.allclose(merged.logits(x), (heads[0].logits(x) + heads[1].logits(x)) / 2, atol=1e-4)
    labels = np.digitize(x[:, 0] + 0.5 * x[:, 1], [-0.5, 0.5])  # three classes, in bands
    p = train_softmax(x, labels, 3, np.random.default_rng(3), epochs=100, l2=1e-4, hidden=16)
    soft = mlp_head.MlpHead(p["mu"], p["sd"], p["w0"], p["b0"], p["w1"], p["b1"])
    assert (soft.logits(x).argmax(1) == labels).mean() > 0.93


def test_padding_and_int16_keep_the_clip():
    rng = np.random.default_rng(1)
    x = np.full(1600, 0.5, np.float32)
    out = padded(x, rng, 0.5, 0.25)
    assert len(out) == 8000 + 1600 + 4000 and abs(out[8000:9600].mean() - 0.5) < 0.01
    assert to_int16(np.array([1.5, -1.5, 0.5], np.float32)).tolist() == [32767, -32768, 16384]


def test_a_kokoro_mix_of_two_voices_is_a_speaker_of_its_own(tmp_path):
    """The crowd of voices: a Kokoro recipe renders once and is found again, and the mix of two
    voices is neither of them."""
    from assistant.training.synth import render

    one, other, mix = (render("stop", f"kokoro:{v}|1.0", tmp_path) for v in ("af_heart", "bm_george",
                                                                           "af_heart+bm_george"))
    assert render("stop", "kokoro:af_heart|1.0", tmp_path) == one and len(set((one, other, mix))) == 3
    a, b, m = (corpus.load(p) for p in (one, other, mix))
    assert all(0.2 * corpus.RATE < len(x) < 2 * corpus.RATE for x in (a, b, m))
    emb = {k: ss.clip_embeddings(to_int16(padded(x, np.random.default_rng(0), 0.6, 0.7)), 0).mean(0)
           for k, x in (("a", a), ("b", b), ("m", m))}
    # the mix's embedding lies between its two voices', closer to each than they are to each other
    ab = np.linalg.norm(emb["a"] - emb["b"])
    assert np.linalg.norm(emb["m"] - emb["a"]) < ab and np.linalg.norm(emb["m"] - emb["b"]) < ab
