"""Vietnamese voice clips for the waiting-room TV when its browser has no Vietnamese voice.

espeak-ng (optional; Debian package espeak-ng, installers for Windows on its GitHub releases page)
renders one WAV clip per word or phrase into <data>/voice/: the phrases "mời số" and "đến bàn",
the 17 words that make up every number from 0 to 999, and the station labels. A call is announced
by joining the clips of "mời số", the queue number, "đến bàn", the desk number and the station.
Names are never rendered, so a clip announcement contains only the number, desk and station.

Vietnamese words are single syllables, each with its own tone, so espeak-ng renders "mười" the same
whether alone or in "mười lăm"; 17 word clips therefore replace a thousand number clips. The folder
holds plain WAV files and can be copied to a laptop without espeak-ng.
"""

import array
import hashlib
import io
import logging
import shutil
import subprocess
import sys
import threading
import unicodedata
import wave
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from .queueing import STATION_DEFAULTS

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
ESPEAK_VOICE = "vi"           # Northern Vietnamese; "vi-vn-x-south" and "vi-vn-x-central" also exist
ESPEAK_SPEED_WPM = 140        # words a minute; espeak-ng's default is 175, slower suits a noisy room (a choice)
ESPEAK_TIMEOUT_S = 30
FOLDER_NAME = "voice"
CALL_PHRASE = "mời số"
DESK_PHRASE = "đến bàn"
MAX_NUMBER = 999
# Samples quieter than this (of 32767) at either end of a clip count as silence and are cut off.
SILENCE_LEVEL = 500
EDGE_MS = 15                  # silence kept at each end of a trimmed clip
WORD_GAP_MS = 40              # between the words of one number
PHRASE_GAP_MS = 300           # between "mời số", the number, "đến bàn", the desk and the station

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


class VoiceError(RuntimeError):
    """espeak-ng is missing, failed or wrote something that is not a usable WAV clip."""


def number_words(number: int) -> list[str]:
    """Return the Vietnamese words for a number from 0 to 999, as it is read aloud.

    15 is "mười lăm", 21 "hai mươi mốt", 44 "bốn mươi tư", 105 "một trăm linh năm". The northern
    "linh" is used for a zero tens digit (the south says "lẻ"). Raises ValueError outside 0..999.
    """
    if not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"number {number} is outside 0..{MAX_NUMBER}")
    if number < 10:
        return [DIGITS[number]]
    hundreds, rest = divmod(number, 100)
    words = [DIGITS[hundreds], "trăm"] if hundreds else []
    if hundreds and rest == 0:
        return words
    if hundreds and rest < 10:
        return [*words, "linh", DIGITS[rest]]
    tens, unit = divmod(rest, 10)
    if tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if unit == 0:
        return words
    if unit == 5:
        words.append("lăm")
    elif unit == 1 and tens >= 2:
        words.append("mốt")
    elif unit == 4 and tens >= 2:
        words.append("tư")
    else:
        words.append(DIGITS[unit])
    return words


def spoken_text(text: str) -> str:
    """Return the form of a phrase that names its clip: NFC, single spaces, lower case."""
    return " ".join(unicodedata.normalize("NFC", text).split()).lower()


def clip_name(text: str) -> str:
    """Return the clip file name for a phrase: an ASCII slug for people, a hash so "mười" and "mươi" differ."""
    spoken = spoken_text(text)
    plain = unicodedata.normalize("NFD", spoken.replace("đ", "d"))
    ascii_text = "".join(char for char in plain if not unicodedata.combining(char))
    slug = "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in ascii_text).split())[:40]
    digest = hashlib.sha256(spoken.encode("utf-8")).hexdigest()[:10]
    return f"{slug or 'clip'}-{digest}.wav"


def vocabulary(labels: list[str] = ()) -> list[str]:
    """Return every phrase a clip announcement needs: the two fixed phrases, the number words, the labels."""
    words = {word for number in range(MAX_NUMBER + 1) for word in number_words(number)}
    phrases = [CALL_PHRASE, DESK_PHRASE, *sorted(words), *labels]
    return list(dict.fromkeys(spoken_text(phrase) for phrase in phrases))


def station_labels(db: sqlite_utils.Database) -> list[str]:
    """Return the default station labels and those of every station type in the database."""
    labels = [default.label for default in STATION_DEFAULTS.values()]
    labels += [row[0] for row in db.execute("SELECT DISTINCT label FROM station_type ORDER BY label").fetchall()]
    return list(dict.fromkeys(labels))


def voice_folder(data_dir: str | Path) -> Path:
    """Return the clip folder inside a site's data folder."""
    return Path(data_dir) / FOLDER_NAME


def clips_ready(folder: Path) -> bool:
    """Return True when the folder has the clips of both fixed phrases and of every number word."""
    return all((folder / clip_name(text)).exists() for text in vocabulary())


def find_espeak() -> str | None:
    """Return the path of espeak-ng on PATH, or None when it is not installed."""
    return shutil.which(ESPEAK)


# Rendering clips.


@dataclass(frozen=True)
class RenderResult:
    """Counts from render_missing: clips written, clips that existed and were left alone, and the folder."""

    rendered: int
    existing: int
    folder: Path


def render_clip(espeak: str, text: str, path: Path) -> Path:
    """Render one phrase with espeak-ng's Vietnamese voice into a WAV file, trimmed of silence at both ends.

    The text goes through stdin as UTF-8, because a Windows command line may mangle Vietnamese
    arguments. The file is written under a temporary name and renamed, so a TV never plays half a clip.
    """
    raw = path.with_suffix(".raw")
    command = [espeak, "-v", ESPEAK_VOICE, "-s", str(ESPEAK_SPEED_WPM), "-b", "1", "-w", str(raw), "--stdin"]
    try:
        subprocess.run(command, input=spoken_text(text).encode("utf-8"), capture_output=True,
                       timeout=ESPEAK_TIMEOUT_S, check=True)
        rate, samples = _read_wav(raw.read_bytes(), path.name)
    except (OSError, subprocess.SubprocessError) as error:
        raise VoiceError(f"{ESPEAK} failed for clip {path.name}: {error}") from error
    finally:
        raw.unlink(missing_ok=True)
    partial = path.with_suffix(".part")
    with wave.open(str(partial), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(_to_bytes(_trim(samples, rate)))
    partial.replace(path)
    return path


def render_missing(folder: Path, labels: list[str], espeak: str | None = None, force: bool = False) -> RenderResult:
    """Render every clip of vocabulary(labels) that the folder lacks (all of them with force).

    Raises VoiceError when espeak-ng is not installed or fails.
    """
    espeak = espeak or find_espeak()
    if espeak is None:
        raise VoiceError(f"{ESPEAK} not found on PATH")
    folder.mkdir(parents=True, exist_ok=True)
    rendered = existing = 0
    for text in vocabulary(labels):
        path = folder / clip_name(text)
        if path.exists() and not force:
            existing += 1
            continue
        render_clip(espeak, text, path)
        rendered += 1
    log.info("voice clips in %s: %d rendered, %d existing", folder, rendered, existing)
    return RenderResult(rendered, existing, folder)


def render_in_background(folder: Path, labels: list[str]) -> threading.Thread | None:
    """Start rendering missing clips in a daemon thread; return it, or None when espeak-ng is not installed."""
    espeak = find_espeak()
    if espeak is None:
        log.info("%s not found: the display uses the browser's voice or the chime", ESPEAK)
        return None

    def run() -> None:
        try:
            render_missing(folder, labels, espeak)
        except VoiceError as error:
            log.warning("voice clips not rendered: %s", error)

    thread = threading.Thread(target=run, name="voice-clips", daemon=True)
    thread.start()
    return thread


# Joining clips into one announcement.


def announcement_phrases(number: int, desk_number: int, station_label: str) -> list[list[str]]:
    """Return the phrases of a clip announcement, each a list of clip texts. They never include a name."""
    return [[CALL_PHRASE], number_words(number), [DESK_PHRASE], number_words(desk_number), [station_label]]


def announcement_wav(folder: Path, number: int, desk_number: int, station_label: str) -> bytes | None:
    """Join the clips that announce a call into one WAV file, or return None when a needed clip is missing.

    The station clip is left out when it is missing, for example for a station added after the
    clips were rendered, because number and desk still tell the person where to go. Numbers above
    999 have no clips and return None.
    """
    if not (0 <= number <= MAX_NUMBER and 0 <= desk_number <= MAX_NUMBER):
        return None
    phrases = announcement_phrases(number, desk_number, station_label)
    paths = [[folder / clip_name(text) for text in phrase] for phrase in phrases]
    if not paths[-1][0].exists():
        paths.pop()
    if not all(path.exists() for phrase in paths for path in phrase):
        return None
    try:
        return _join(paths)
    except VoiceError as error:
        log.warning("voice clips in %s not joined: %s", folder, error)
        return None


def _join(phrases: list[list[Path]]) -> bytes:
    rate = None
    joined = array.array("h")
    for index, phrase in enumerate(phrases):
        for position, path in enumerate(phrase):
            clip_rate, samples = _read_wav(path.read_bytes(), path.name)
            if rate is not None and clip_rate != rate:
                raise VoiceError(f"clip {path.name} has {clip_rate} Hz, but the clips before it have {rate} Hz")
            rate = clip_rate
            if position:
                joined.extend(_silence(WORD_GAP_MS, rate))
            joined.extend(samples)
        if index < len(phrases) - 1:
            joined.extend(_silence(PHRASE_GAP_MS, rate))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(_to_bytes(joined))
    return buffer.getvalue()


# 16-bit mono samples.


def _read_wav(data: bytes, name: str) -> tuple[int, array.array]:
    """Return a WAV file's sample rate and samples. Only 16-bit mono PCM, which espeak-ng writes, is accepted."""
    try:
        with wave.open(io.BytesIO(data), "rb") as clip:
            params = clip.getparams()
            frames = clip.readframes(params.nframes)
    except (wave.Error, EOFError) as error:
        raise VoiceError(f"clip {name} is not a WAV file: {error}") from error
    if params.nchannels != 1 or params.sampwidth != 2:
        raise VoiceError(f"clip {name} has {params.nchannels} channels of {params.sampwidth * 8} bits; "
                         "expected 16-bit mono")
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return params.framerate, samples


def _to_bytes(samples: array.array) -> bytes:
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _trim(samples: array.array, rate: int) -> array.array:
    loud = [index for index, value in enumerate(samples) if abs(value) > SILENCE_LEVEL]
    if not loud:
        raise VoiceError("espeak-ng wrote a silent clip")
    edge = rate * EDGE_MS // 1000
    return samples[max(loud[0] - edge, 0):loud[-1] + edge + 1]


def _silence(milliseconds: int, rate: int) -> array.array:
    return array.array("h", bytes(2 * (rate * milliseconds // 1000)))
