"""A private PulseAudio server with a virtual room, for tests and live benchmarks.

The room is a null sink `room`; the microphone `mic` hears its monitor. The assistant plays into
its own sink `speaker` (the default), which a loopback carries into the room, so whatever anyone
plays (the assistant's voice, a test's spoken command) reaches the microphone, as on a laptop,
and the speaker can fail on its own (`suspend-sink speaker`) while the microphone still hears.
A keep-alive loopback from a silent source keeps the room running so new streams do not stall.
The speaker's loopback does not adapt its rate (adjust_time=0): a laptop's speaker and microphone
share one codec clock, so its echo path is a fixed delay. With rate adaptation on, the loopback
resampled by ~100 ppm and slid the echo by about a sample every half second, and the echo
canceller, chasing it, removed 2-3 dB instead of 10-17 dB (a USB microphone with its own clock
would do the same: the stop spotter is trained to hear a stop over the uncancelled voice too).
The server runs as a child process (no D-Bus, no system mode) and
is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path


class RigError(RuntimeError):
    pass


class PulseRig:
    def __init__(self, rate: int = 16000):
        self.rate = rate
        self.dir = Path(tempfile.mkdtemp(prefix="massage-pulse-"))
        self.socket = self.dir / "native"
        self.proc: subprocess.Popen | None = None

    @property
    def server(self) -> str:
        return f"unix:{self.socket}"

    def env(self) -> dict[str, str]:
        """Environment for a child process that should use this room."""
        return {**os.environ, "PULSE_SERVER": self.server, "PULSE_SINK": "speaker",
                "PULSE_SOURCE": "mic"}

    def start(self, timeout: float = 10.0) -> PulseRig:
        exe = shutil.which("pulseaudio")
        if exe is None:
            raise RigError("pulseaudio is not installed: run scripts/setup --test")
        modules = [
            f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            f"module-null-sink sink_name=room rate={self.rate} channels=1",
            f"module-null-sink sink_name=speaker rate={self.rate} channels=1",
            "module-virtual-source source_name=mic master=room.monitor",
            "module-null-source source_name=silence",
            "module-loopback source=silence sink=room latency_msec=20",
            "module-loopback source=speaker.monitor sink=room latency_msec=20 adjust_time=0",
        ]
        env = {**os.environ, "HOME": str(self.dir), "XDG_RUNTIME_DIR": str(self.dir),
               "XDG_CONFIG_HOME": str(self.dir)}
        args = [exe, "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
                "--use-pid-file=no", "--system=no", "--disable-shm=yes", "-F", "/dev/null",
                *[f"--load={m}" for m in modules]]
        log = (self.dir / "pulse.log").open("w")
        self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RigError(f"pulseaudio exited: {(self.dir / 'pulse.log').read_text()[-2000:]}")
            if self.socket.exists() and self.pactl("info", check=False).returncode == 0:
                self.pactl("set-default-sink", "speaker")
                self.pactl("set-default-source", "mic")
                self._await_capture(deadline)
                self._tone = self.room_tone()
                return self
            time.sleep(0.05)
        self.stop()
        raise RigError("pulseaudio did not come up in time")

    def _await_capture(self, deadline: float) -> None:
        """Wait until a capture from `mic` actually delivers audio (the sink may start late)."""
        while time.monotonic() < deadline:
            out = subprocess.run(
                ["timeout", "1", "parec", "--device=mic", "--raw", "--format=s16le", "--channels=1",
                 f"--rate={self.rate}"], env=self.env(), capture_output=True)
            if len(out.stdout) >= self.rate // 10:
                return
        raise RigError("the virtual microphone delivers no audio")

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env(), capture_output=True, text=True,
                              check=check, timeout=10)

    def play(self, wav: str | Path) -> subprocess.Popen:
        """Play a file into the room, as a person speaking would."""
        return subprocess.Popen(["paplay", "--device=room", str(wav)], env=self.env())

    def room_tone(self, noise_db: float = -60.0, seconds: float = 600.0) -> subprocess.Popen:
        """Play faint noise into the room for `seconds`: no real room is digitally silent, and
        the assistant takes exact zeros from its microphone for a dead microphone."""
        import numpy as np

        from .audio import write_wav

        path = self.dir / "room-tone.wav"
        rng = np.random.default_rng(0)
        noise = rng.normal(0, 32768 * 10 ** (noise_db / 20), int(seconds * self.rate))
        write_wav(path, np.clip(noise, -32768, 32767).astype(np.int16), self.rate)
        return subprocess.Popen(["paplay", "--device=room", str(path)], env=self.env())

    def record(self, out: str | Path) -> subprocess.Popen:
        """Record the room (everything played into it) to a WAV until terminated."""
        return subprocess.Popen(["parecord", "--device=room.monitor", f"--rate={self.rate}",
                                 "--channels=1", "--format=s16le", "--file-format=wav", str(out)],
                                env=self.env())

    def stop(self) -> None:
        tone = getattr(self, "_tone", None)
        if tone is not None and tone.poll() is None:
            tone.kill()
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PulseRig:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
