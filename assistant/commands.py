"""The one command vocabulary: canonical commands, their spoken phrases, and which are safety commands.

Recognizers build their grammars from PHRASES, so a new synonym is one line here.
"""

from __future__ import annotations

import re
from enum import Enum


class Command(str, Enum):
    NEXT = "next"
    BACK = "back"
    REPEAT = "repeat"
    PAUSE = "pause"
    CONTINUE = "continue"
    SLOWER = "slower"
    FASTER = "faster"
    TIME_LEFT = "time_left"
    WHERE = "where"
    HELP = "help"
    QUIT = "quit"
    YES = "yes"  # answers to the pre-session safety questions
    NO = "no"
    STOP = "stop"  # safety: plain stop
    PAIN = "pain"  # safety: stop because it hurts

    @property
    def is_safety(self) -> bool:
        return self in SAFETY


SAFETY = frozenset({Command.STOP, Command.PAIN})

# Spoken phrase -> command. Words must exist in the recognizers' pronunciation dictionaries.
PHRASES: dict[str, Command] = {
    "stop": Command.STOP,
    "stop stop": Command.STOP,
    "stop it hurts": Command.PAIN,
    "it hurts": Command.PAIN,
    "ouch": Command.PAIN,
    "too hard": Command.PAIN,
    "next": Command.NEXT,
    "skip": Command.NEXT,
    "next step": Command.NEXT,
    "back": Command.BACK,
    "go back": Command.BACK,
    "previous": Command.BACK,
    "repeat": Command.REPEAT,
    "again": Command.REPEAT,
    "pause": Command.PAUSE,
    "wait": Command.PAUSE,
    "continue": Command.CONTINUE,
    "resume": Command.CONTINUE,
    "slower": Command.SLOWER,
    "slow down": Command.SLOWER,
    "faster": Command.FASTER,
    "speed up": Command.FASTER,
    "how long": Command.TIME_LEFT,
    "time left": Command.TIME_LEFT,
    "where am i": Command.WHERE,
    "help": Command.HELP,
    "quit": Command.QUIT,
    "end session": Command.QUIT,
    "yes": Command.YES,
    "no": Command.NO,
}

SAFETY_PHRASES = tuple(p for p, c in PHRASES.items() if c in SAFETY)

# Words that alone mean a safety stop wherever they appear in a longer transcript.
_SAFETY_WORDS = {"stop": Command.STOP, "ouch": Command.PAIN, "hurts": Command.PAIN}

_NON_WORD = re.compile(r"[^a-z' ]+")


def normalize(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def parse(text: str) -> Command | None:
    """Map a transcript to a command, or None.

    Navigation needs the whole transcript to be a known phrase (anything else is out of
    vocabulary). Safety is looser on purpose: a stop or pain word anywhere counts, and pain
    wins over a plain stop, because a missed stop is the one error that hurts someone.
    """
    norm = normalize(text)
    if not norm:
        return None
    words = norm.split()
    safety = [_SAFETY_WORDS[w] for w in words if w in _SAFETY_WORDS]
    if "too hard" in norm or "it hurts" in norm:
        safety.append(Command.PAIN)
    if safety:
        return Command.PAIN if Command.PAIN in safety else Command.STOP
    return PHRASES.get(norm)


def phrases_for(command: Command) -> list[str]:
    return [p for p, c in PHRASES.items() if c is command]


def vocabulary_words() -> list[str]:
    """Every distinct word used by any phrase, sorted: what a recognizer must know."""
    return sorted({w for p in PHRASES for w in p.split()})


# What a person adds around a command, which an English recognizer writes down and a grammar
# never hears: "next, please", "okay, pause", "um, go back".
_FILLERS = frozenset("please okay ok um uhm uh er erm hmm oh so now then just hey right".split())
# Natural answers to the safety questions ("Is there numbness ...? Say yes or no.")
_ANSWERS = {"yeah": "yes", "yep": "yes", "yup": "yes", "nope": "no", "nah": "no"}
MAX_SNAP_WORDS = 4  # a longer transcript with no stop or pain word in it is a sentence


def snap(text: str) -> Command | None:
    """A free transcript (an English recognizer's) snapped onto the vocabulary, or None.

    Safety as in `parse` (a stop or pain word anywhere). Otherwise the transcript, less the
    fillers around commands, must be one phrase, said once or over and over ("next, next, ne":
    prompted with the vocabulary, Whisper tends to write a word out until its token cap): "pause
    timer", "skip on tv" or "play the beatles" are not commands, however close they sound.
    """
    command = parse(text)
    if command is not None:
        return command
    words = [_ANSWERS.get(w, w) for w in normalize(text).split() if w not in _FILLERS]
    if not words:
        return None
    for n in (1, 2, 3):  # a phrase said over and over, the last time perhaps cut short
        unit = words[:n]
        repeated = len(words) >= n and (unit * (len(words) // n + 1))[: len(words)] == words
        if repeated and " ".join(unit) in PHRASES:
            return PHRASES[" ".join(unit)]
    if len(words) > MAX_SNAP_WORDS:
        return None
    return PHRASES.get(" ".join(words))


def prompt_text() -> str:
    """The vocabulary as an English recognizer's prompt, so that it writes these very words. On
    tuning data (60 real stops, 80 real short words, 48 synthetic commands, 66 synthetic
    command-like sentences) every phrase listed did as well as or better than each word once
    (60 and 59 stops heard, 1 and 0 false stops, 46 commands both) or no prompt (51 stops)."""
    return ", ".join(PHRASES).replace("where am i", "where am I") + "."
