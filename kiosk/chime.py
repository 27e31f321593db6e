"""Write the display's fallback chime: two sine tones, 16-bit mono WAV. Run: python -m kiosk.chime."""

import math
import struct
import wave
from pathlib import Path

CHIME = Path(__file__).resolve().parent.parent / "fieldapp" / "static" / "audio" / "chime.wav"
RATE = 22_050
TONES = ((880.0, 0.35), (660.0, 0.55))   # (frequency Hz, seconds): a falling "ding-dong"
VOLUME = 0.5


def samples() -> bytes:
    """Return the chime as little-endian 16-bit samples, each tone fading out to avoid clicks."""
    frames = bytearray()
    for frequency, seconds in TONES:
        count = int(RATE * seconds)
        for index in range(count):
            fade = 1.0 - index / count
            value = VOLUME * fade * math.sin(2 * math.pi * frequency * index / RATE)
            frames += struct.pack("<h", int(value * 32767))
    return bytes(frames)


def write_chime(path: Path = CHIME) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(RATE)
        output.writeframes(samples())
    return path


if __name__ == "__main__":
    print(write_chime())
