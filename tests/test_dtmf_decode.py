"""toneflow's DTMF decoder, proven against spandsp's dtmf_rx and multimon-ng.

For the seeds' sequences and for generated ones, rendered clean, with white noise at
20 dB SNR and through a G.711 µ-law round trip: all three decoders hear exactly the
keys toneflow rendered, and toneflow's start and end times are within 15 ms of
spandsp's once spandsp's mean reporting lag (about 30 ms at a start, 20 at an end) is
taken off. toneflow's own times are also held to the plan.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from dtmf_decoders import MULTIMON, SPANDSP, multimon_keys, spandsp_keys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toneflow.cli.dtmf import dtmf
from toneflow.dtmf.audio import read_wav, render_plan, to_int16, ulaw_decode, ulaw_encode, write_wav
from toneflow.dtmf.decode import decode_samples
from toneflow.dtmf.expect import first_difference
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.wire import WirePlan, WireTiming, wire_plan

needs_decoders = pytest.mark.skipif(
    SPANDSP is None or MULTIMON is None,
    reason="needs libspandsp2 and multimon-ng (apt-get install libspandsp2 multimon-ng sox)",
)
SEEDS = [
    ("minivoice", "1234#"),
    ("vicidial", "QQQQ1234SQQQQQ6654P"),
    ("vobiz", "1w2W3"),
    ("vobiz", "1234"),
    ("genesys", "5"),
]
CONDITIONS = ("clean", "noise", "ulaw")
AGREE_MS = 15
PLAN_MS = 10


def condition(samples: np.ndarray, how: str, seed: int = 0) -> np.ndarray:
    """The rendered audio as heard: clean, 20 dB SNR white noise, or µ-law round trip."""
    tail = np.concatenate([samples, np.zeros(800)])  # a little silence after the last key
    if how == "noise":
        power = np.mean(tail[tail != 0] ** 2)
        return tail + np.random.default_rng(seed).normal(0, np.sqrt(power / 100), len(tail))
    if how == "ulaw":
        return ulaw_decode(ulaw_encode(to_int16(tail))) / 32768
    return tail


def check_agreement(plan: WirePlan, how: str, seed: int = 0) -> list[tuple[float, float]]:
    """Assert the three decoders agree with the render; return toneflow - spandsp times."""
    audio = condition(render_plan(plan), how, seed)
    rendered = "".join(t.key for t in plan.tones)
    ours = decode_samples(audio)
    theirs = spandsp_keys(audio)
    assert "".join(k.key for k in ours) == rendered
    assert "".join(k.key for k in theirs) == rendered
    assert multimon_keys(audio) == rendered
    for heard, tone in zip(ours, plan.tones, strict=True):
        assert abs(heard.start_ms - tone.start_ms) <= PLAN_MS
        assert abs(heard.end_ms - tone.end_ms) <= PLAN_MS
    return [
        (s.start_ms - o.start_ms, s.end_ms - o.end_ms) for o, s in zip(ours, theirs, strict=True)
    ]


def assert_within_lag(differences: list[tuple[float, float]]) -> None:
    """toneflow's times are spandsp's less its mean lag, within AGREE_MS."""
    diffs = np.array(differences)
    lag = diffs.mean(axis=0)
    assert 15 <= lag[0] <= 45  # spandsp reports a start late (notes: 24-37 ms, mean 30)
    assert np.abs(diffs - lag).max() <= AGREE_MS


@needs_decoders
@pytest.mark.parametrize("how", CONDITIONS)
def test_the_seeds_are_heard_alike_by_all_three(how):
    differences = []
    for dialect, text in SEEDS:
        differences += check_agreement(wire_plan(parse(text, dialect), dialect), how)
    assert_within_lag(differences)


@needs_decoders
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.text("0123456789*#ABCD", min_size=1, max_size=10),
    tone=st.integers(40, 150),
    gap=st.integers(50, 200),
    before=st.integers(0, 500),
    seed=st.integers(0, 1000),
)
def test_generated_sequences_are_heard_alike_by_all_three(keys, tone, gap, before, seed):
    plan = wire_plan(parse(keys, "minivoice"), timing=WireTiming(tone, gap), pause_before_ms=before)
    differences = []
    for how in CONDITIONS:
        differences += check_agreement(plan, how, seed)
    assert_within_lag(differences)


def test_silence_and_noise_alone_are_no_keys():
    rng = np.random.default_rng(7)
    assert decode_samples(np.zeros(8000)) == []
    assert decode_samples(rng.normal(0, 0.1, 8000 * 5)) == []


def test_too_short_a_tone_is_not_a_key():
    short = render_plan(wire_plan(parse("5", "minivoice"), timing=WireTiming(20, 100)))
    assert decode_samples(np.concatenate([short, np.zeros(800)])) == []


# --- comparing with the plan ---------------------------------------------------------


def test_first_difference_names_what_went_wrong():
    plan = wire_plan(parse("W123", "minivoice"))  # 1 at 1000, 2 at 1200, 3 at 1400
    assert first_difference(plan, [("1", 1000), ("2", 1210), ("3", 1390)]) is None
    assert first_difference(plan, [("1", 1000), ("3", 1400)]) == (
        "key 2 ('2', position 3, planned at 1200 ms) was not heard"
    )
    assert first_difference(plan, [("1", 1000), ("2", 1200)]) == (
        "key 3 ('3', position 4, planned at 1400 ms) was not heard (nothing heard after it)"
    )
    assert first_difference(plan, [("1", 1000), ("9", 1100), ("2", 1200), ("3", 1400)]) == (
        "an extra '9' was heard at 1100 ms, before key 2 ('2', position 3, planned at 1200 ms)"
    )
    assert first_difference(plan, [("1", 1000), ("2", 1200), ("3", 1400), ("#", 1600)]) == (
        "an extra '#' was heard at 1600 ms, after the last planned key"
    )
    assert first_difference(plan, [("1", 1000), ("2", 1221), ("3", 1400)]) == (
        "key 2 ('2', position 3, planned at 1200 ms) was heard at 1221 ms, 21 ms late "
        "(more than 20 ms)"
    )
    assert first_difference(plan, [("1", 979), ("2", 1200), ("3", 1400)]).endswith(
        "21 ms early (more than 20 ms)"
    )
    assert first_difference(plan, [("1", 1000), ("5", 1200), ("3", 1400)]) == (
        "key 2 ('2', position 3, planned at 1200 ms): heard '5' at 1200 ms instead"
    )


# --- the command -----------------------------------------------------------------------

SEED = "QQQQ1234SQQQQQ6654P"


def invoke(*args):
    return CliRunner().invoke(dtmf, [str(a) for a in args])


@pytest.fixture
def seed_wav(tmp_path) -> Path:
    out = tmp_path / "seed.wav"
    assert invoke("render", SEED, "--dialect", "vicidial", "--out", out).exit_code == 0
    return out


def test_decode_prints_the_keys_with_times(seed_wav):
    result = invoke("decode", seed_wav)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["key", "start", "ms", "end", "ms"]
    first = lines[1].split()
    assert first[0] == "1" and abs(int(first[1]) - 4000) <= 5 and abs(int(first[2]) - 4100) <= 5
    assert lines[-1] == "heard: 1234*6654#"


def test_decode_json(seed_wav):
    import json

    data = json.loads(invoke("decode", seed_wav, "--format", "json").stdout)
    assert [k["key"] for k in data["keys"]] == list("1234*6654#")
    assert set(data["keys"][0]) == {"key", "start_ms", "end_ms"}
    assert abs(data["keys"][5]["start_ms"] - 10000) <= 5


def test_expect_passes_on_the_render_and_fails_with_a_key_cut_out(seed_wav, tmp_path):
    result = invoke("decode", seed_wav, "--expect", SEED, "--dialect", "vicidial")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("ok: every planned key heard, in time")
    audio = read_wav(seed_wav)
    cut = audio.samples.copy()
    cut[10_200 * 8 : 10_300 * 8] = 0  # the second 6
    write_wav(tmp_path / "cut.wav", cut)
    result = invoke("decode", tmp_path / "cut.wav", "--expect", SEED, "--dialect", "vicidial")
    assert result.exit_code == 1
    assert result.stderr == ("error: key 7 ('6', position 16, planned at 10200 ms) was not heard\n")
    late = invoke(
        "decode", seed_wav, "--expect", SEED, "--dialect", "vicidial", "--pause-before-ms", "50"
    )
    assert late.exit_code == 1
    assert late.stderr.startswith("error: key 1 ('1', position 5, planned at 4050 ms) was heard")
    assert late.stderr.endswith("ms early (more than 20 ms)\n")


@pytest.mark.parametrize(("rate", "codec"), [(8000, "ulaw"), (16000, "pcm16"), (44100, "pcm16"),
                                             (48000, "ulaw")])  # fmt: skip
def test_decode_reads_common_rates_and_ulaw(tmp_path, rate, codec):
    out = tmp_path / "x.wav"
    args = ["render", "1w2W3", "--dialect", "vobiz", "--out", out, "--rate", rate, "--codec", codec]
    assert invoke(*args).exit_code == 0
    result = invoke("decode", out, "--expect", "1w2W3", "--dialect", "vobiz")
    assert result.exit_code == 0, result.output


def test_decode_refuses_what_is_not_audio(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"not audio at all")
    result = invoke("decode", tmp_path / "x.wav")
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'x.wav'}: not a WAV file (no RIFF/WAVE header)\n"
    result = invoke("decode", tmp_path / "x.wav", "--expect", "12X")
    assert result.exit_code == 1
    assert "invalid DTMF character 'X' at position 3" in result.stderr


@needs_decoders
@pytest.mark.skipif(shutil.which("sox") is None, reason="multimon-ng -t wav needs sox")
def test_multimon_hears_the_seed_file_as_the_issue_says(seed_wav):
    result = subprocess.run(
        [MULTIMON, "-a", "DTMF", "-t", "wav", str(seed_wav)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    heard = [line.split(":", 1)[1].strip() for line in result.stdout.splitlines()
             if line.startswith("DTMF:")]  # fmt: skip
    assert " ".join(heard) == "1 2 3 4 * 6 6 5 4 #"
