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
