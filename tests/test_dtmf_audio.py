"""toneflow.dtmf.audio and `toneflow dtmf render`: the wire plan as sound, and G.711."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from support import PROJECT_FLOWS, python_prints

from toneflow.cli.dtmf import dtmf
from toneflow.dtmf.audio import (
    FREQUENCIES,
    FULL_SCALE_DBM0,
    read_wav,
    render_plan,
    resample,
    to_int16,
    ulaw_decode,
    ulaw_encode,
    write_wav,
)
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.wire import WireTiming, wire_plan

SOX = shutil.which("sox")
needs_sox = pytest.mark.skipif(SOX is None, reason="sox is not installed (apt-get install sox)")


def dbm0(samples: np.ndarray, rate: int, hz: int) -> float:
    """The level of the ``hz`` component of ``samples``, in dBm0 (one DFT bin, exact)."""
    t = np.arange(len(samples)) / rate
    amp = 2 * abs(np.sum(samples * np.exp(-2j * np.pi * hz * t))) / len(samples)
    return 20 * np.log10(amp) + FULL_SCALE_DBM0


def test_the_standard_frequencies():
    assert FREQUENCIES["1"] == (697, 1209)
    assert FREQUENCIES["5"] == (770, 1336)
    assert FREQUENCIES["#"] == (941, 1477)
    assert FREQUENCIES["D"] == (941, 1633)
    assert len(FREQUENCIES) == 16


def test_tones_sit_where_the_plan_puts_them_and_silence_is_exact():
    plan = wire_plan(parse("1w#", "minivoice"), pause_before_ms=250)
    samples = render_plan(plan)
    assert len(samples) == plan.total_ms * 8
    one, pound = plan.tones
    assert not samples[: one.start_ms * 8].any()  # pause_before_ms: exact zeros
    assert not samples[one.end_ms * 8 : pound.start_ms * 8].any()  # gap and pause
    assert samples[one.start_ms * 8 + 40 : one.end_ms * 8 - 40].std() > 0.1


def test_levels_and_twist_are_inside_q23():
    plan = wire_plan(parse("5", "minivoice"), timing=WireTiming(1000, 100))
    tone = render_plan(plan)[40:-40]  # leave out the 2 ms ramps... and a bit
    low, high = dbm0(tone, 8000, 770), dbm0(tone, 8000, 1336)
    assert low == pytest.approx(-10, abs=0.3)
    assert high == pytest.approx(-8, abs=0.3)
    assert 0 < high - low <= 4  # high group above low: normal twist, within 4 dB


def test_ulaw_is_g711_and_round_trips():
    every = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
    codes = ulaw_encode(every)
    back = ulaw_decode(codes)
    assert np.abs(back.astype(np.int32) - every).max() <= 1024  # the top segment's step
    assert set(ulaw_decode(np.arange(256, dtype=np.uint8)).tolist()) == set(back.tolist())
    assert ulaw_encode(np.array([0], dtype=np.int16))[0] == 0xFF  # G.711's zero


@needs_sox
def test_ulaw_matches_sox_both_ways(tmp_path):
    every = np.arange(-32768, 32768, dtype=np.int32).astype("<i2")
    (tmp_path / "in.raw").write_bytes(every.tobytes())
    subprocess.run(
        [SOX, "-D", "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1",
         str(tmp_path / "in.raw"), "-t", "ul", str(tmp_path / "out.ul")],
        check=True,
    )  # fmt: skip
    theirs = np.frombuffer((tmp_path / "out.ul").read_bytes(), dtype=np.uint8)
    assert np.array_equal(ulaw_encode(every), theirs)
    codes = np.arange(256, dtype=np.uint8)
    (tmp_path / "codes.ul").write_bytes(codes.tobytes())
    subprocess.run(
        [SOX, "-D", "-t", "ul", "-r", "8000", "-c", "1", str(tmp_path / "codes.ul"),
         "-t", "raw", "-e", "signed", "-b", "16", str(tmp_path / "codes.raw")],
        check=True,
    )  # fmt: skip
    decoded = np.frombuffer((tmp_path / "codes.raw").read_bytes(), dtype="<i2")
    assert np.array_equal(ulaw_decode(codes), decoded)


def test_wav_files_round_trip_in_both_codecs(tmp_path):
    samples = render_plan(wire_plan(parse("1234#", "minivoice")))
    write_wav(tmp_path / "a.wav", samples, codec="pcm16")
    with wave.open(str(tmp_path / "a.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
    back = read_wav(tmp_path / "a.wav")
    assert back.rate == 8000
    assert np.abs(back.samples - samples).max() < 1e-4
    write_wav(tmp_path / "u.wav", samples, codec="ulaw")
    u = read_wav(tmp_path / "u.wav")
    assert len(u.samples) == len(samples)
    expected = ulaw_decode(ulaw_encode(to_int16(samples))) / 32768
    assert np.array_equal(u.samples, expected)


@needs_sox
def test_sox_reads_the_ulaw_wav(tmp_path):
    samples = render_plan(wire_plan(parse("1", "minivoice")))
    write_wav(tmp_path / "u.wav", samples, codec="ulaw")
    info = subprocess.run(
        [SOX, "--i", str(tmp_path / "u.wav")], capture_output=True, text=True, check=True
    ).stdout
    assert "u-law" in info
    assert "8000" in info


def test_resampling_keeps_the_tones():
    plan = wire_plan(parse("9", "minivoice"), timing=WireTiming(500, 100))
    at_48k = render_plan(plan, rate=48000)
    at_8k = resample(at_48k, 48000, 8000)
    assert len(at_8k) == len(render_plan(plan))
    middle = at_8k[400:-400]
    assert dbm0(middle, 8000, 852) == pytest.approx(-10, abs=0.5)
    assert dbm0(middle, 8000, 1477) == pytest.approx(-8, abs=0.5)


def invoke(*args, env=None):
    return CliRunner().invoke(dtmf, list(args), env=env)


def test_render_writes_the_sequence(tmp_path):
    out = tmp_path / "seed.wav"
    result = invoke("render", "QQQQ1234SQQQQQ6654P", "--dialect", "vicidial", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}: 10 keys, 10.900 s, 8000 Hz pcm16\n"
    audio = read_wav(out)
    assert len(audio.samples) == 10_900 * 8
    assert not audio.samples[: 4000 * 8].any()  # QQQQ: four seconds of exact silence


def test_render_options(tmp_path):
    out = tmp_path / "u.wav"
    args = ["render", "12", "--out", str(out), "--codec", "ulaw", "--rate", "16000"]
    result = invoke(*args, "--tone-ms", "60", "--gap-ms", "50", "--pause-before-ms", "500")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("2 keys, 0.670 s, 16000 Hz ulaw\n")
    assert read_wav(out).rate == 16000


def test_render_refuses_bad_input(tmp_path):
    out = str(tmp_path / "x.wav")
    result = invoke("render", "12X", "--out", out)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid DTMF character 'X' at position 3")
    assert invoke("render", "--out", out).exit_code == 2  # neither TEXT nor --flow
    assert invoke("render", "1", "--flow", "menu", "--step", "x", "--out", out).exit_code == 2
    assert invoke("render", "--flow", "menu", "--out", out).exit_code == 2  # no --step
    assert not Path(out).exists()


def test_render_a_flow_step_in_order(tmp_path):
    out = tmp_path / "p.wav"
    env = {"TONEFLOW_FLOWS_DIR": str(PROJECT_FLOWS)}
    result = invoke("render", "--flow", "dtmf_parties", "--step", "keys", "--out", str(out),
                    env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    # 123 then 321, back to back (500 ms each); the speak actions take no time in the file
    assert result.stdout.endswith("6 keys, 1.000 s, 8000 Hz pcm16\n")
    args = ["render", "--flow", "appointment", "--step", "connect", "--out", str(out)]
    result = invoke(*args, env=env)
    assert result.exit_code == 1
    assert "--var confirmation_code=" in result.stderr
    result = invoke(*args, "--var", "confirmation_code=1234", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("5 keys, 2.900 s, 8000 Hz pcm16\n")  # 2 s, then 1234#
    assert not read_wav(out).samples[: 2000 * 8].any()


def test_importing_the_app_does_not_import_numpy(tmp_path):
    """Web workers never load numpy: only the render/decode commands import it."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "TONEFLOW_FLOWS_DIR": str(PROJECT_FLOWS),
    }
    toneflow = str(Path(sys.executable).with_name("toneflow"))
    subprocess.run([toneflow, "db", "upgrade"], env=env, check=True, capture_output=True)
    script = "import sys, app\napp.create_app()\nprint('numpy' in sys.modules)\n"
    assert python_prints(script, env) == "False"
