"""Voice clips for the waiting-room TV: Vietnamese number words, clip names, joining, rendering and the command."""

import datetime as dt
import io
import math
import struct
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from fieldapp import voice
from fieldapp.cli import main
from fieldapp.db import write
from fieldapp.queueing import add_station_type
from fieldapp.rounds import SiteSpec, create_round, sites

RATE = 22_050
ESPEAK = voice.find_espeak()
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed (Debian: apt-get install espeak-ng)")


def tone(seconds: float, rate: int = RATE) -> bytes:
    """Return a 440 Hz tone as 16-bit mono samples."""
    count = int(rate * seconds)
    return b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(count))


def write_wav(path: Path, seconds: float, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(tone(seconds, rate))


def fake_clips(folder: Path, labels: list[str] = (), seconds: float = 0.1) -> Path:
    """Write a short tone as the clip of every phrase voice needs, as `fieldapp display voices` would."""
    folder.mkdir(parents=True, exist_ok=True)
    for text in voice.vocabulary(list(labels)):
        write_wav(folder / voice.clip_name(text), seconds)
    return folder


def seconds_of(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as clip:
        return clip.getnframes() / clip.getframerate()


# Number words.


@pytest.mark.parametrize(("number", "words"), [
    (0, "không"),
    (1, "một"),
    (4, "bốn"),
    (5, "năm"),
    (10, "mười"),
    (11, "mười một"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (44, "bốn mươi tư"),
    (55, "năm mươi lăm"),
    (71, "bảy mươi mốt"),
    (99, "chín mươi chín"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"),
    (300, "ba trăm"),
    (444, "bốn trăm bốn mươi tư"),
    (999, "chín trăm chín mươi chín"),
])
def test_number_words(number, words):
    assert " ".join(voice.number_words(number)) == words


@pytest.mark.parametrize("number", [-1, 1000])
def test_number_words_out_of_range(number):
    with pytest.raises(ValueError, match="outside 0..999"):
        voice.number_words(number)


def test_vocabulary_has_few_words():
    words = voice.vocabulary()

    assert words[:2] == ["mời số", "đến bàn"]
    assert len(words) == 2 + 17


def test_vocabulary_adds_labels_once():
    words = voice.vocabulary(["Cân đo", "cân  đo", "Thị lực"])

    assert words[-2:] == ["cân đo", "thị lực"]


# Clip names.


def test_clip_name_tells_tones_apart():
    assert voice.clip_name("mười") != voice.clip_name("mươi")


def test_clip_name_ignores_case_and_spaces():
    assert voice.clip_name("Đo huyết áp, mạch") == voice.clip_name(" đo  huyết áp, mạch")


def test_clip_name_ascii():
    name = voice.clip_name("Đo huyết áp, mạch")

    assert name.startswith("do-huyet-ap-mach-")
    assert name.endswith(".wav")
    assert name.isascii()


def test_station_labels_include_defaults_and_database(db):
    with write(db):
        round_id = create_round(db, "Đợt 1", dt.date(2026, 12, 4), 1, [SiteSpec("Trạm Y tế", "12 Lê Lợi", 40)])
        add_station_type(db, sites(db, round_id)[0]["id"], "xray", "Chụp X-quang", [])

    labels = voice.station_labels(db)

    assert "Cân đo" in labels
    assert "Chụp X-quang" in labels


# Joining clips.


def test_announcement_phrases_never_name():
    phrases = voice.announcement_phrases(15, 2, "Cân đo")

    assert phrases == [["mời số"], ["mười", "lăm"], ["đến bàn"], ["hai"], ["Cân đo"]]


def test_announcement_wav_joins_clips(tmp_path):
    folder = fake_clips(tmp_path / "voice", ["Cân đo"])

    audio = voice.announcement_wav(folder, 15, 2, "Cân đo")

    # Six clips of 0.1 s, one 40 ms gap inside "mười lăm", and four 300 ms gaps between the five phrases.
    assert seconds_of(audio) == pytest.approx(6 * 0.1 + 0.04 + 4 * 0.3, abs=0.001)


def test_announcement_wav_without_station_clip(tmp_path):
    folder = fake_clips(tmp_path / "voice")

    audio = voice.announcement_wav(folder, 15, 2, "Phòng mới")

    assert seconds_of(audio) == pytest.approx(5 * 0.1 + 0.04 + 3 * 0.3, abs=0.001)


def test_announcement_wav_missing_number_clip(tmp_path):
    folder = fake_clips(tmp_path / "voice", ["Cân đo"])
    (folder / voice.clip_name("lăm")).unlink()

    assert voice.announcement_wav(folder, 15, 2, "Cân đo") is None
    assert voice.clips_ready(folder) is False


def test_announcement_wav_number_too_large(tmp_path):
    folder = fake_clips(tmp_path / "voice", ["Cân đo"])

    assert voice.announcement_wav(folder, 1000, 2, "Cân đo") is None


def test_announcement_wav_mixed_rates(tmp_path):
    folder = fake_clips(tmp_path / "voice", ["Cân đo"])
    write_wav(folder / voice.clip_name("hai"), 0.1, rate=16_000)

    assert voice.announcement_wav(folder, 15, 2, "Cân đo") is None


def test_announcement_wav_not_a_wav(tmp_path):
    folder = fake_clips(tmp_path / "voice", ["Cân đo"])
    (folder / voice.clip_name("mời số")).write_bytes(b"not a wav")

    assert voice.announcement_wav(folder, 15, 2, "Cân đo") is None


def test_clips_ready(tmp_path):
    assert voice.clips_ready(tmp_path / "voice") is False
    assert voice.clips_ready(fake_clips(tmp_path / "voice")) is True


# Rendering with espeak-ng.


def test_render_without_espeak(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(voice.VoiceError, match="espeak-ng not found"):
        voice.render_missing(tmp_path / "voice", [])
    assert voice.render_in_background(tmp_path / "voice", []) is None


def test_render_failure_raises(tmp_path):
    with pytest.raises(voice.VoiceError, match="failed"):
        voice.render_clip(str(tmp_path / "no-such-espeak"), "mười", tmp_path / "clip.wav")


@needs_espeak
def test_render_clip_is_trimmed_wav(tmp_path):
    path = voice.render_clip(ESPEAK, "mười lăm", tmp_path / "clip.wav")

    with wave.open(str(path), "rb") as clip:
        seconds = clip.getnframes() / clip.getframerate()
        channels = clip.getnchannels()
    assert 0.2 < seconds < 2
    assert channels == 1
    assert list(tmp_path.iterdir()) == [path]


@needs_espeak
def test_render_in_background(tmp_path):
    thread = voice.render_in_background(tmp_path / "voice", ["Cân đo"])
    thread.join(timeout=120)

    assert not thread.is_alive()
    assert voice.clips_ready(tmp_path / "voice")
    assert (tmp_path / "voice" / voice.clip_name("Cân đo")).exists()


# The command.


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, [str(arg) for arg in args], env=env, catch_exceptions=False)


@needs_espeak
def test_command_renders_clips(tmp_path):
    result = invoke("display", "voices", "--data-dir", tmp_path)
    again = invoke("display", "voices", "--data-dir", tmp_path)

    folder = tmp_path / "voice"
    assert result.exit_code == 0
    assert f"Đã tạo {2 + 17 + 9} đoạn âm thanh và giữ 0 đoạn đã có" in result.output
    assert f"Đã tạo 0 đoạn âm thanh và giữ {2 + 17 + 9} đoạn đã có" in again.output
    with wave.open(str(folder / voice.clip_name("mười")), "rb") as clip:
        assert clip.getnframes() / clip.getframerate() > 0
    audio = voice.announcement_wav(folder, 15, 2, "Đo huyết áp, mạch")
    assert seconds_of(audio) > 1


@needs_espeak
def test_command_force_renders_again(tmp_path):
    invoke("display", "voices", "--data-dir", tmp_path)

    result = invoke("display", "voices", "--data-dir", tmp_path, "--force")

    assert f"Đã tạo {2 + 17 + 9} đoạn âm thanh và giữ 0 đoạn đã có" in result.output


def test_command_without_espeak(tmp_path):
    result = invoke("display", "voices", "--data-dir", tmp_path / "site", env={"PATH": str(tmp_path)})

    assert result.exit_code == 1
    assert "Không tìm thấy chương trình espeak-ng" in result.output
    assert "sudo apt install espeak-ng" in result.output
    assert not (tmp_path / "site" / "voice").exists()
