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


def embedded_ears(echo: EchoPath | None = None, heads: tuple[str, ...] = ("command", "pain"),
                  kws_thresholds: dict[str, float] | None = None) -> Ears:
    """The embedded engine: the trained spotter hears "stop", pocketsphinx's keyword spotter the
    pain phrases, and its grammar the rest, checked by the trained `heads` ("command" for
    navigation, "pain" for the grammar's pain results; none: the bare grammar)."""
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
    return Ears("embedded", FrontEnd(echo, spotter.head.k, SileroVad()),
                StopPath([SpotterEar(spotter), kws]), [GrammarRecognizer(verdicts, spotter=kws)])


def make_ears(engine: str | None = None, model: str | None = None,
              canceller: Canceller | None = None) -> Ears:
    """The hearing of one engine: vosk when a model is configured or present in models/,
    otherwise the embedded engine. `canceller`: the echo canceller fed with what is played
    (none: the microphone goes to the recognizers as it is)."""
    from ..recognizers.sphinx import GrammarRecognizer, KeywordSpotter
    from .stop_path import StopPath
    from .vad import SileroVad

    if engine is None:
        # The embedded engine: the trained spotter hears real "stop" far more often than
        # pocketsphinx's keyword spotter (scripts/bench.py --engines embedded,pocketsphinx).
        engine = "vosk" if find_vosk_model(model) else "embedded"
    echo = EchoPath(canceller) if canceller is not None else None
    if engine == "embedded":
        return embedded_ears(echo)
    voice_activity = SileroVad()
    if engine == "vosk":
        from ..recognizers.vosk_engine import VoskRecognizer

        path = find_vosk_model(model)
        if path is None:
            raise RecognizerError("no vosk model: pass --model DIR or run 'massage-assistant get-model'")
        return Ears("vosk", FrontEnd(echo, None, voice_activity), StopPath([VoskRecognizer(path)]), [])
    if engine == "pocketsphinx":
        kws = KeywordSpotter()
        return Ears("pocketsphinx", FrontEnd(echo, None, voice_activity), StopPath([kws]),
                    [GrammarRecognizer(spotter=kws)])
    raise RecognizerError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


__all__ = ["CANCELLERS", "Ears", "embedded_ears", "make_canceller", "make_ears"]
