"""Bounded memory whatever an input decompresses to (issue 19): an oversized JSONL line or CSV record
is an E001 row read past, not held; a JSON document is read whole only up to a limit. The hostile
files are made here, compressed as they are written (a zstd of a few GiB is a few hundred KB)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

import adrop_kit as ak
from adrop_kit.errors import DataReadError
from adrop_kit.io.parts import WHOLE_LIMIT

MIB = 1 << 20


def zst(path: Path, pieces) -> Path:
    """A .zst of `pieces` (bytes, or `Repeat`s): a repeated block is compressed once and its frame
    written again and again (a zstd stream may hold many frames), so gigabytes cost milliseconds."""
    c = zstandard.ZstdCompressor(level=1)
    with open(path, "wb") as f:
        for piece in pieces:
            if isinstance(piece, Repeat):
                frame = c.compress(piece.block)
                for _ in range(piece.times):
                    f.write(frame)
            elif piece:
                f.write(c.compress(piece))
    return path


class Repeat:
    def __init__(self, block: bytes, total: int):
        self.block, self.times = block, total // len(block)


def one_long_line(n: int, fill: bytes = b"a"):
    """Three events, the second with a uid `n` MiB long: one line."""
    return [b'{"uid":"u0","eventName":"app_open"}\n{"uid":"', Repeat(fill * MIB, n * MIB),
            b'","eventName":"app_open"}\n{"uid":"u2","eventName":"app_open"}\n']


@pytest.mark.parametrize("batch", [4096, 32 * MIB])
def test_an_oversized_jsonl_line_is_one_e001_row_read_past_and_the_rows_after_it_count(tmp_path, batch):
    path = zst(tmp_path / "big.jsonl.zst", one_long_line(5))
    report = ak.validate_events(path, batch_bytes=batch)
    assert (report.rows, report.valid, report.invalid) == (3, 2, 1)
    v = report.violations.row(0, named=True)
    assert (v["row"], v["line"], v["rule"]) == (1, 2, "E001") and v["value"].startswith('{"uid":"aaaa')


def test_a_line_of_spaces_then_text_is_still_a_row_and_a_blank_line_is_still_blank(tmp_path):
    event = b'{"uid":"u","eventName":"app_open"}\n'
    spaces_then_text = zst(tmp_path / "a.jsonl.zst", [b" " * (3 * MIB), b"{}\n", event])
    blank = zst(tmp_path / "b.jsonl.zst", [b" " * (3 * MIB), b"\n", event])
    assert (ak.validate_events(spaces_then_text).rows, ak.validate_events(spaces_then_text).invalid) == (2, 1)
    assert (ak.validate_events(blank).rows, ak.validate_events(blank).invalid) == (1, 0)


def test_the_same_line_read_whole_and_streamed_gets_the_same_verdict(tmp_path):
    lines = b"".join(p if isinstance(p, bytes) else p.block * p.times for p in one_long_line(3))
    plain = tmp_path / "big.jsonl"
    plain.write_bytes(lines)
    whole = ak.validate_events(plain, stream=False)
    streamed = ak.validate_events(plain, stream=True, batch_bytes=1024)
    assert whole.summary() == streamed.summary()
    assert whole.violations.select("row", "rule", "message").equals(streamed.violations.select("row", "rule",
                                                                                              "message"))


def test_a_csv_quote_that_never_closes_is_one_e001_row_and_the_file_goes_on(tmp_path):
    pieces = [b'uid,eventName\nu1,app_open\n"u2,app_open\n',
              Repeat((b"x" * 1023 + b"\n") * 1024, 4 * MIB),  # 4 MiB of lines inside the quote
              b'end"x,app_open\nu3,app_open\n']
    path = zst(tmp_path / "q.csv.zst", pieces)
    report = ak.validate_events(path, batch_bytes=64 * 1024)
    assert (report.rows, report.valid, report.invalid) == (3, 2, 1)
    v = report.violations.row(0, named=True)
    assert v["rule"] == "E001" and v["row"] == 1 and v["value"].startswith('"u2,app_open')


def test_a_json_document_is_read_whole_only_up_to_a_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("adrop_kit.io.stream.WHOLE_LIMIT", 2 * MIB)
    path = tmp_path / "spaces.json.gz"
    with gzip.open(path, "wb", compresslevel=1) as g:
        for _ in range(3):
            g.write(b" " * MIB)
    with pytest.raises(DataReadError, match=r"spaces\.json\.gz: more than 2 MiB once decompressed.*JSONL"):
        ak.validate_events(path)
    assert WHOLE_LIMIT <= 512 * MIB


def test_a_compressed_file_is_streamed_by_the_api_too(tmp_path):
    path = zst(tmp_path / "small.jsonl.zst", [b'{"uid":"u","eventName":"app_open"}\n'])
    report = ak.validate_events(path)
    assert report.rows == 1 and report.frame is None  # streamed: nothing held but the batch


PEAK = """
import resource, sys
from adrop_kit.cli import main
code = main(sys.argv[1:])
print("PEAK_MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)
raise SystemExit(code)
"""


def peak_run(*args: str) -> tuple[int, str, str, int]:
    run = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    peak = int(run.stderr.rsplit("PEAK_MB", 1)[1].split()[0])
    return run.returncode, run.stdout, run.stderr, peak


@pytest.mark.slow
def test_a_2_gib_one_line_zst_is_one_e001_row_in_under_1_gb(tmp_path):
    path = zst(tmp_path / "bomb.jsonl.zst", one_long_line(2048))
    assert path.stat().st_size < 1 * MIB
    code, out, err, peak = peak_run("validate", str(path), "--format", "json")
    assert code == 1 and "Traceback" not in err, err
    report = json.loads(out)
    assert report["summary"] == {"rows": 3, "valid": 2, "invalid": 1, "warned": 0}
    assert report["violations"][0]["rule"] == "E001"
    assert peak < 1024, f"peak RSS {peak} MB"


@pytest.mark.slow
def test_a_csv_with_an_unclosed_quote_over_gigabytes_and_a_json_of_spaces_stay_under_1_gb(tmp_path):
    csv = zst(tmp_path / "q.csv.zst", [b'uid,eventName\n"u1,app_open\n', Repeat(b" " * MIB, 2048 * MIB)])
    code, out, err, peak = peak_run("validate", str(csv), "--format", "json")
    assert code == 1 and json.loads(out)["summary"]["invalid"] == 1 and peak < 1024, (err, peak)
    spaces = zst(tmp_path / "s.json.zst", [Repeat(b" " * MIB, 2048 * MIB)])
    code, out, err, peak = peak_run("validate", str(spaces))
    assert code == 2 and err.count("adrop-kit: error:") == 1 and peak < 1024, (err, peak)
