"""WebRTC's AEC3 echo canceller, through the LiveKit SDK's audio processing module (`--aec aec3`).

AEC3 is the canceller browsers ship, and it removes more of the assistant's voice than speex:
on the simulated rooms of scripts/bench_echo.py it converges within the first second instead
of two to four, and keeps removing about 35 dB with the speaker's clock 100 ppm off the
microphone's (speex: 4 dB) or the echo 300 ms late (speex: 24 dB). But its residual-echo
suppressor takes a person's words apart while the assistant talks, and the recognizers then miss
them: tuning-split stops said over the voice were heard by the stop spotter 11 times in 36
through AEC3, 36 through speex, and 11 with no canceller (bench_echo.py prints the same). So
speex stays the default and AEC3 is kept measurable.

Only the echo canceller is on: noise suppression, gain control and the high-pass filter would
change the audio the recognizers' heads were trained on. LiveKit's wheel carries WebRTC built for
every platform and is kept up to date by a company that runs it in production, which the small
AEC3 bindings on PyPI are not; it is an extra (`pip install massage-assistant[aec3]`).
"""

from __future__ import annotations

import numpy as np

from ..audio import BLOCK, RATE

FRAME = RATE // 100  # the module works on 10 ms frames


class Aec3Error(RuntimeError):
    pass


class Aec3Canceller:
    """Cancel the played reference from the microphone, one block (a whole number of 10 ms
    frames) at a time. `delay_ms` is a hint of the output-to-input delay; AEC3 finds the real
    one itself."""

    name = "aec3"

    def __init__(self, block: int = BLOCK, rate: int = RATE, delay_ms: int = 0):
        if rate != RATE or block % FRAME:
            raise ValueError(f"AEC3 here takes {RATE} Hz audio in multiples of {FRAME} samples")
        try:
            from livekit import rtc
        except ImportError as e:
            raise Aec3Error(f"AEC3 needs the livekit package ({e}): "
                            "pip install 'massage-assistant[aec3]'") from e
        self._rtc = rtc
        self.block = block
        self.delay_ms = delay_ms
        self._apm = self._new()

    def _new(self):
        return self._rtc.AudioProcessingModule(echo_cancellation=True)

    def reset(self) -> None:
        self._apm = self._new()

    def process(self, mic: np.ndarray, played: np.ndarray) -> np.ndarray:
        if len(mic) != self.block or len(played) != self.block:
            raise ValueError(f"blocks must be {self.block} samples")
        rtc = self._rtc
        out = np.empty(self.block, dtype=np.int16)
        mic16 = np.ascontiguousarray(mic, dtype=np.int16)
        ref16 = np.ascontiguousarray(played, dtype=np.int16)
        for i in range(0, self.block, FRAME):
            ref = rtc.AudioFrame(ref16[i:i + FRAME].tobytes(), RATE, 1, FRAME)
            self._apm.process_reverse_stream(ref)
            self._apm.set_stream_delay_ms(self.delay_ms)
            near = rtc.AudioFrame(mic16[i:i + FRAME].tobytes(), RATE, 1, FRAME)
            self._apm.process_stream(near)  # in place
            out[i:i + FRAME] = np.frombuffer(near.data, dtype=np.int16)
        return out

    def close(self) -> None:
        self._apm = None
