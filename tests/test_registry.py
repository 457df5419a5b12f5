"""The model registry: every shipped model is a named, versioned, checked artefact, and the lists
of what trained them hold no clip a benchmark reports on."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil

import pytest

from assistant import cli, registry
from assistant.recognizers import command_head, speech_embedding, stop_spotter
from tests.conftest import ROOT


def test_every_shipped_model_file_is_in_the_registry_and_matches_it():
    shipped = {p.relative_to(registry.PACKAGE).as_posix()
               for ext in ("*.npz", "*.onnx") for p in registry.PACKAGE.rglob(ext)}
    entries = registry.entries()
    assert {e.file for e in entries.values()} == shipped
    for entry in entries.values():
        assert registry.check(entry) == entry.path
        assert entry.version >= 1 and re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        if entry.trained_by:  # trained here: the commit its training code ran at
            assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", entry.training_commit), entry.name
            assert entry.validation, entry.name
            package = entry.trained_by.removeprefix("python -m assistant.training ")
            if package != entry.trained_by:  # the training package and the model's config
                assert (ROOT / package).exists(), entry.name
            else:  # a head from before the package: its script is in history, at training_commit
                assert re.fullmatch(r"scripts/train_\w+\.py", entry.trained_by), entry.name
        else:
            assert entry.source, entry.name  # a converted or third-party model says where it came from
    assert registry.main() == 0


def _with_wrong_hash(monkeypatch, name: str) -> None:
    table = dict(registry.entries())
    table[name] = dataclasses.replace(table[name], sha256="0" * 64)
    monkeypatch.setattr(registry, "entries", lambda: table)


@pytest.mark.parametrize(("name", "load"), [
    ("stop_head", stop_spotter.load_head), ("command_head", command_head.load_head),
    ("pain_head", command_head.load_pain_head), ("speech_embedding", speech_embedding._weights)])
def test_a_shipped_model_unlike_its_entry_is_refused_at_load(monkeypatch, name, load):
    load.cache_clear()
    _with_wrong_hash(monkeypatch, name)
    try:
        with pytest.raises(registry.ModelError, match=rf"sha256 .* is not the registry's 000000000000… "
                                                      rf"for {name} version \d"):
            load()
    finally:
        load.cache_clear()


def test_the_session_does_not_start_on_a_changed_model(monkeypatch, capsys):
    """The product refuses before a word is said, naming the file: a stop head that is not the
    measured one must not guard anybody."""
    stop_spotter.load_head.cache_clear()
    _with_wrong_hash(monkeypatch, "stop_head")
    try:
        code = cli.main(["run", "lower-back", "--mic-file", str(ROOT / "examples" / "demo-mic.flac"),
                         "--skip-safety-check", "--second-stage", "off", "--quiet"])
    finally:
        stop_spotter.load_head.cache_clear()
    err = capsys.readouterr().err
    assert code != 0
    assert "Cannot start" in err and "stop_head.npz" in err and "registry" in err


def test_record_enters_a_model_with_its_training_data_and_versions_it(tmp_path):
    reg = tmp_path / "registry.json"
    reg.write_text(json.dumps({"schema": registry.SCHEMA, "models": {}}))
    model = tmp_path / "head.npz"
    model.write_bytes(b"weights one")
    data = ["val\tneg\twords\t0\trender:go [kal]", "train\tstop\treal-stop\t0\tspeech:a/b.wav"]
    first = registry.record("head", model, trained_by="python -m assistant.training head.yaml",
                            code=["assistant/training"], data=data,
                            validation={"recall": 0.9}, registry=reg)
    assert first.version == 1 and first.data_items == 2
    listed = (tmp_path / "training_data" / "head.txt").read_text().splitlines()
    assert listed == sorted(data) and first.data_hash == registry.data_hash(listed)
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", first.training_commit)
    same = registry.record("head", model, trained_by="python -m assistant.training head.yaml",
                           code=["assistant/training"], data=data, validation={}, registry=reg)
    assert same.version == 1  # the same file: the same version
    model.write_bytes(b"weights two")
    second = registry.record("head", model, trained_by="python -m assistant.training head.yaml",
                             code=["assistant/training"], data=data[:1], validation={},
                             registry=reg)
    assert second.version == 2 and second.data_items == 1
    stored = json.loads(reg.read_text())["models"]["head"]
    assert stored["sha256"] == second.sha256 and stored["file"] == "head.npz"


def test_no_clip_a_benchmark_reports_on_went_into_training():
    """The data lists of every trained model against every real clip the benchmark scores:
    held-out stops and short words, read speech, speech-to-phrase and felix's clips (the
    training package's one definition of them, which bench_data reads too)."""
    from assistant.training.__main__ import held_out_in, reported_clips

    assert len(reported_clips()) > 700
    lists = [e for e in registry.entries().values() if e.data_hash]
    assert {e.name for e in lists} == {"stop_head", "command_head", "pain_head"}
    for entry in lists:
        lines = (registry.DATA_LISTS / f"{entry.name}.txt").read_text().splitlines()
        assert registry.data_hash(lines) == entry.data_hash and len(lines) == entry.data_items
        assert any("\tspeech:" in line for line in lines), entry.name  # each learnt from real tuning clips
        assert held_out_in(lines) == [], (entry.name, held_out_in(lines)[:5])


def test_the_registry_is_shipped_with_the_package(tmp_path):
    """An installed (non-editable) package carries the registry and the data lists: the product
    checks its models wherever it runs."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"registry.json"' in pyproject and '"training_data/*.txt"' in pyproject
    shutil.copy(registry.REGISTRY, tmp_path / "registry.json")
    assert registry._read(tmp_path / "registry.json") == registry.entries()
