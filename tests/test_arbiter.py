"""The arbiter, pure: which candidates reach the session, marked how, and when the voice ducks.

Tables of plain values, no audio."""

from __future__ import annotations

import pytest

from assistant.commands import Command
from assistant.heard import Heard
from assistant.hearing.arbiter import ArbiterState, Candidate, Duck, OwnVoice, duck, judge
from assistant.hearing.echo_path import NO_ECHO_PATH, EchoSpan

VOICE_ALONE = EchoSpan(playing=True, removal_db=24.0, baseline_db=25.0, raw=False, cancelling=True,
                       carries=True)
PERSON = EchoSpan(playing=True, removal_db=6.0, baseline_db=25.0, raw=False, cancelling=True, carries=True)
QUIET = EchoSpan(playing=False, removal_db=0.0, baseline_db=25.0, raw=False, cancelling=True)
NO_ECHO_AT_MIC = EchoSpan(playing=True, removal_db=0.2, baseline_db=0.1, raw=False, cancelling=True)
RAW = EchoSpan(playing=True, removal_db=24.0, baseline_db=25.0, raw=True, cancelling=True)
WEAK = EchoSpan(playing=True, removal_db=8.0, baseline_db=8.5, raw=False, cancelling=True)


@pytest.mark.parametrize(("span", "explained"), [
    (VOICE_ALONE, True),  # removal as usual: nothing but the voice was there
    (PERSON, False),  # a person added what the canceller cannot remove
    (QUIET, False),  # the assistant was not playing
    (NO_ECHO_AT_MIC, False),  # headphones: the canceller removes nothing, nothing is explained
    (RAW, True),  # the recognizers heard the raw microphone: the voice itself, by the canceller's figures
    (WEAK, False),  # under 10 dB removed: too little to tell the voice from a person
    (NO_ECHO_PATH, False),  # no canceller at all
    (EchoSpan(True, 19.5, 25.0, False, True), True),  # within 6 dB of the usual
    (EchoSpan(True, 18.5, 25.0, False, True), False),
])
def test_own_voice_explains_only_what_the_voice_alone_would_give(span, explained):
    assert OwnVoice().explains(span) is explained


def h(t: float, command: Command, final: bool = False, start: float | None = None) -> Heard:
    return Heard(t, command, command.value, final=final, start=start if start is not None else t - 1.0)


@pytest.mark.parametrize(("command", "span", "own"), [
    (Command.NEXT, VOICE_ALONE, True),
    (Command.NEXT, PERSON, False),
    (Command.STOP, VOICE_ALONE, True),  # the spotter's "stop" in the voice's own "Step one of five"
    (Command.STOP, PERSON, False),  # a person's stop
    (Command.STOP, NO_ECHO_AT_MIC, False),
    (Command.PAIN, VOICE_ALONE, True),
    (Command.PAIN, EchoSpan(True, 0.1, 0.2, True, True, carries=False), False),  # headphones
])
def test_what_the_assistants_own_voice_explains_is_set_aside(command, span, own):
    _, out = judge(ArbiterState(), 10.0, [Candidate(h(10.0, command), span)])
    assert [(x.command, x.own_voice) for x in out] == [(command, own)]


DRIFTING = EchoSpan(playing=True, removal_db=5.0, baseline_db=5.5, raw=False, cancelling=True, carries=True)


@pytest.mark.parametrize(("command", "text", "said", "span", "outcome"), [
    # its own answer, heard where the canceller cannot keep up: set aside
    (Command.SLOWER, "slower, slower", "Slower.", DRIFTING, "own"),
    (Command.NEXT, "next", "Say next to skip it, or quit to end.", DRIFTING, "own"),
    # words it was not saying: a person's, obeyed over the voice
    (Command.SLOWER, "slower", "Step two of five: Palm circles.", DRIFTING, "over"),
    (Command.NEXT, "next please", "Say next to skip it.", DRIFTING, "over"),
    # the echo path says a person spoke: obeyed, whatever the voice was saying
    (Command.SLOWER, "slower", "Slower.", PERSON, "person"),
    # a safety word is never set aside for the words the voice was saying
    (Command.STOP, "stop", "Say stop, or ouch, and I stop at once.", DRIFTING, "over"),
    (Command.PAIN, "ouch", "Say stop, or ouch, and I stop at once.", DRIFTING, "over"),
    # what it said before the candidate's audio does not count
    (Command.SLOWER, "slower", None, DRIFTING, "over"),
])
def test_a_command_made_of_the_words_the_voice_was_saying_is_its_own(command, text, said, span, outcome):
    playing = ((9.0, 11.0, said),) if said else ((2.0, 3.0, "Slower."),)
    heard = Heard(10.0, command, text, final=True, start=9.5, path="whisper")
    _, [out] = judge(ArbiterState(), 10.0, [Candidate(heard, span)], said=playing)
    got = "own" if out.own_voice else "over" if out.over_voice else "person"
    assert got == outcome


@pytest.mark.parametrize(("span", "person"), [
    (PERSON, True), (VOICE_ALONE, False),
    (EchoSpan(True, 0.2, 0.1, False, True, carries=False), True),  # headphones: any speech is a person's
    (EchoSpan(True, 3.0, 4.0, False, True, carries=True), False),  # converging: it cannot tell
    (EchoSpan(True, 3.0, 4.0, False, True, carries=None), False),  # under a second played
    (NO_ECHO_PATH, False),
])
def test_the_echo_path_tells_a_person_only_when_it_can(span, person):
    assert OwnVoice().person(span) is person


@pytest.mark.parametrize(("first", "later", "passes"), [
    (Command.STOP, Command.NEXT, False),  # "stop ... next": the tail never releases the latch
    (Command.STOP, Command.CONTINUE, False),
    (Command.STOP, Command.STOP, False),  # the grammar's backup of the same word
    (Command.STOP, Command.PAIN, True),  # "stop ... it hurts": news of pain upgrades the stop
    (Command.PAIN, Command.PAIN, False),
])
def test_the_tail_of_an_utterance_that_stopped_the_session_yields_nothing_more(first, later, passes):
    state, out = judge(ArbiterState(), 10.0, [Candidate(h(10.0, first), PERSON)])
    assert [x.command for x in out] == [first]
    tail = h(10.6, later, final=True, start=9.2)  # the grammar's result on the same utterance
    _, out = judge(state, 10.6, [Candidate(tail, PERSON)])
    assert [x.command for x in out] == ([later] if passes else [])


def test_a_command_after_the_utterance_is_not_a_tail():
    state, _ = judge(ArbiterState(), 10.0, [Candidate(h(10.0, Command.STOP), PERSON)])
    later = h(14.0, Command.CONTINUE, final=True, start=12.5)  # a new utterance, after the stop
    _, out = judge(state, 14.0, [Candidate(later, PERSON)])
    assert [x.command for x in out] == [Command.CONTINUE]


def test_partial_results_are_never_tails():
    """The fast paths restart after each hit: one word fires once, and each fire is news."""
    state, _ = judge(ArbiterState(), 10.0, [Candidate(h(10.0, Command.STOP), PERSON)])
    _, out = judge(state, 10.3, [Candidate(h(10.3, Command.PAIN), PERSON)])
    assert [x.command for x in out] == [Command.PAIN]


# ---- ducking ---------------------------------------------------------------------------------

# (t, voice activity, assistant playing, the echo path says a person, session cut) -> ducks
DUCK_TABLE = [
    ("a person talks over the voice, then falls quiet", [
        (1.00, 0.1, True, True, False, []),
        (1.02, 0.9, True, True, False, [Duck(True, -20.0)]),
        (1.04, 0.9, True, True, False, []),
        (1.06, 0.1, True, True, False, []),  # quiet from here
        (1.30, 0.6, True, True, False, []),  # a breath of speech: the quiet starts again
        (1.32, 0.2, True, True, False, []),
        (1.70, 0.2, True, True, False, []),
        (1.72, 0.2, True, True, False, [Duck(False)]),  # 0.4 s quiet
    ]),
    ("nobody talks", [(t / 50, 0.1, True, True, False, []) for t in range(20)]),
    ("speech to the VAD that the echo path explains, or cannot tell from the voice", [
        (1.00, 0.9, True, False, False, []), (1.02, 0.9, True, False, False, []),
    ]),
    ("a person talking while nothing plays", [
        (1.00, 0.9, False, True, False, []), (1.02, 0.9, False, True, False, []),
    ]),
    ("a stop cut the voice: the answer is heard whole, and the same talk never ducks again", [
        (1.00, 0.9, True, True, False, [Duck(True, -20.0)]),
        (1.20, 0.9, True, True, True, []),  # cut: the player is back at full level by itself
        (1.22, 0.9, True, True, False, []),  # still talking over "Stopped. Lift your hands."
        (1.24, 0.1, True, True, False, []),
        (1.64, 0.1, True, True, False, []),  # quiet for 0.4 s: the next talk may duck again
        (1.66, 0.9, True, True, False, [Duck(True, -20.0)]),
    ]),
]


@pytest.mark.parametrize(("name", "rows"), DUCK_TABLE, ids=[n for n, _ in DUCK_TABLE])
def test_ducking(name, rows):
    state = ArbiterState()
    for t, speech, playing, person, cut, want in rows:
        state, got = duck(state, t, speech, playing, person, cut)
        assert got == want, (name, t)


@pytest.mark.parametrize(("span", "over"), [
    (PERSON, False),  # plainly a person
    (QUIET, False),  # the assistant was not speaking
    (EchoSpan(True, 17.0, 25.0, False, True, carries=True), True),  # neither the voice nor plainly a person
    (EchoSpan(True, 3.0, 4.0, False, True, carries=True), True),  # a canceller converging cannot tell
])
def test_a_candidate_over_the_voice_that_the_echo_path_cannot_place_is_marked(span, over):
    _, out = judge(ArbiterState(), 10.0, [Candidate(h(10.0, Command.CONTINUE, final=True), span)])
    assert [(x.own_voice, x.over_voice) for x in out] == [(False, over)]


class _Ear:
    """A safety recognizer reading its results from a script: {block time: [commands]}."""

    def __init__(self, name: str, script: dict[float, list[Command]]):
        self.name, self.script, self.restarts = name, script, 0

    def feed(self, block) -> list[Heard]:
        return [Heard(block.t, c, c.value, final=False, path=self.name, start=block.t - 0.5)
                for c in self.script.get(block.t, [])]

    def restart(self) -> None:
        self.restarts += 1


def test_a_stop_told_to_the_session_ends_the_keyword_spotters_utterance():
    """Its next result cannot join the person's "stop" to whatever follows it (the assistant's
    own "Stopped." made "stop it hurts"); a stop the echo explains leaves it as it is."""
    from types import SimpleNamespace

    from assistant.hearing.stop_path import StopPath

    spotter = _Ear("stop spotter", {1.0: [Command.STOP]})
    kws = _Ear("keyword spotter", {})
    path = StopPath([spotter, kws])
    state, heard = path.hear(ArbiterState(), SimpleNamespace(t=0.5), None)
    assert heard == [] and kws.restarts == 0
    state, heard = path.hear(state, SimpleNamespace(t=1.0), None)
    assert [h.command for h in heard] == [Command.STOP] and kws.restarts == 1 and spotter.restarts == 0
    explained = StopPath([_Ear("stop spotter", {1.0: [Command.STOP]}), kws])

    class _Echo:  # the voice was playing and the canceller took its usual 30 dB: the voice's own
        def span(self, start, end):
            return EchoSpan(playing=True, removal_db=30.0, baseline_db=30.0, raw=False, cancelling=True)

    _, heard = explained.hear(ArbiterState(), SimpleNamespace(t=1.0), _Echo())
    assert heard[0].own_voice and kws.restarts == 1
