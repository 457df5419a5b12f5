"""Hearing: echo path, front end, recognizers and arbiter, assembled per engine.

    mic block -> echo path -> front end -> recognizers -> candidates -> arbiter -> session
                 (speex; never (embedding,   (stop path first,            (safety first,
                  adds voice)   voice act.)   then the rest)               own voice, duck)

`make_ears` builds the pipeline for an engine; stop_path.py is the stop path in one file.
"""

from __future__ import annotations

from ..recognizers import ENGINES, RecognizerError, find_vosk_model
from .ears import Ears
from .echo_path import Canceller, EchoPath
from .frontend import FrontEnd

CANCELLERS = ("speex", "aec3")


def make_canceller(name: str = "speex") -> Canceller:
    if name == "aec3":
        from .aec3 import Aec3Canceller

        return Aec3Canceller()
    if name == "speex":
        from ..echo import SpeexCanceller

        return SpeexCanceller()
    raise ValueError(f"unknown echo canceller {name!r} (choose from {', '.join(CANCELLERS)})")


def second_stage(mode: str = "auto", threaded: bool = False) -> list:
    """The Whisper stage, as a list of none or one recognizer. `mode`: "auto" (when its model is
    in models/), "on" (it must be), "off". It corroborates its stops with the trained stop head
    on the front end's windows (the embedded engine's; other engines have none: no stops)."""
    if mode == "off":
        return []
    from ..recognizers import default_model_dir
    from ..recognizers.whisper_stage import Transcriber, WhisperStage, find_model

    path = find_model(default_model_dir())
    if path is None:
        if mode == "on":
            raise RecognizerError("no Whisper model in models/: run scripts/setup")
        return []
    from ..recognizers.stop_spotter import load_head

    # live: one thread, so that the audio loop and the stop path keep a core of their own
    return [WhisperStage(Transcriber(path, threads=1 if threaded else 2), threaded=threaded,
                         stop_head=load_head())]


def embedded_ears(echo: EchoPath | None = None, heads: tuple[str, ...] = ("command", "pain"),
                  kws_thresholds: dict[str, float] | None = None, stage2: list | None = None) -> Ears:
    """The embedded engine: the trained spotter hears "stop", pocketsphinx's keyword spotter the
    pain phrases, and its grammar the rest, checked by the trained `heads` ("command" for
    navigation, "pain" for the grammar's pain results; none: the bare grammar). `stage2`: the
    second stage (second_stage()), which takes the grammar's place: it decides navigation and
    backs the stop path up, where the grammar mapped almost any short speech onto a command and
    gave most of the false stops (scripts/bench.py: 22 of 34 on real short words)."""
    from ..commands import SAFETY_PHRASES
    from ..recognizers import command_head
    from ..recognizers.sphinx import GrammarRecognizer, KeywordSpotter
    from ..recognizers.stop_spotter import HeadVerdicts, StopSpotter
    from .stop_path import SpotterEar, StopPath
    from .vad import SileroVad

    spotter = StopSpotter()
    kws = KeywordSpotter(tuple(p for p in SAFETY_PHRASES if p not in ("stop", "stop stop")), kws_thresholds)
    loaders = {"command": command_head.load_head, "pain": command_head.load_pain_head}
    verdicts = HeadVerdicts({name: loaders[name]() for name in heads}, spotter.head.k) if heads else None
    rest = stage2 or [GrammarRecognizer(verdicts)]
    return Ears("embedded", FrontEnd(echo, spotter.head.k, SileroVad()), StopPath([SpotterEar(spotter), kws]),
                rest)


def make_ears(engine: str | None = None, model: str | None = None,
              canceller: Canceller | None = None, stage2: str = "auto", live: bool = False) -> Ears:
    """The hearing of one engine: vosk when a model is configured or present in models/,
    otherwise the embedded engine. `canceller`: the echo canceller fed with what is played
    (none: the microphone goes to the recognizers as it is); `stage2`: the second stage that
    knows English (second_stage); `live`: it transcribes on a thread of its own."""
    from ..recognizers.sphinx import GrammarRecognizer, KeywordSpotter
    from .stop_path import StopPath
    from .vad import SileroVad

    if engine is None:
        # The embedded engine: the trained spotter hears real "stop" far more often than
        # pocketsphinx's keyword spotter (scripts/bench.py --engines embedded,pocketsphinx).
        engine = "vosk" if find_vosk_model(model) else "embedded"
    echo = EchoPath(canceller) if canceller is not None else None
    if engine == "embedded":
        return embedded_ears(echo, stage2=second_stage(stage2, threaded=live))
    voice_activity = SileroVad()
    if engine == "vosk":
        from ..recognizers.vosk_engine import VoskRecognizer

        path = find_vosk_model(model)
        if path is None:
            raise RecognizerError("no vosk model: pass --model DIR or run 'massage-assistant get-model'")
        return Ears("vosk", FrontEnd(echo, None, voice_activity), StopPath([VoskRecognizer(path)]), [])
    if engine == "pocketsphinx":
        return Ears("pocketsphinx", FrontEnd(echo, None, voice_activity), StopPath([KeywordSpotter()]),
                    second_stage(stage2, threaded=live) or [GrammarRecognizer()])
    raise RecognizerError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


__all__ = ["CANCELLERS", "Ears", "embedded_ears", "make_canceller", "make_ears", "second_stage"]
