"""Faults: read-only and full output folders, ``kill -9`` of prove, setup, a batch worker and the
batch's main process. Nothing private is left on disk, no process is orphaned, no proof is lost,
and every failure is one line.

The output folders are tiny tmpfs mounts (``mount -t tmpfs -o size=64k``, then ``remount,ro`` for
the read-only one); without the right to mount those tests skip, saying so. The kill tests run
the real CLI in subprocesses and watch their process trees through /proc; they are ``slow``
(proofs and a setup in subprocesses, about a minute): ``pytest -m slow tests/test_faults.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from prover.build import compile_circuit
from prover.cache import exclusive_lock
from prover.ptau import generate_dev_ptau
from prover.setup import SETUP_LOCK, SETUP_SCRATCH, KeySet, setup_keys
from verifier import load_verifying_key, parse_proof, verify
from zkmargin.bundle import ProofBundle
from zkmargin.cli import main
from tests.conftest import dev_ptau
from tests.processes import alive, children, cmdline, wait_for
from zkmargin.io import save_model
from zkmargin.venue import generate_key, save_key

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ACCOUNT, SNAPSHOT = EXAMPLES / "hedged_market_maker.json", EXAMPLES / "snapshot_span16.json"
MUL = ROOT / "tests" / "verifier" / "fixtures" / "mul.circom"
TMPFS_BYTES = 64 * 1024
PAGE = 4096


def _mount_tmpfs(path: Path, *, read_only: bool = False, free_pages: int | None = None) -> None:
    """Mount a 64 KiB tmpfs at ``path``; read-only, or filled up to ``free_pages`` free pages."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(path)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    if free_pages is not None:
        with open(path / "filler", "wb") as filler:
            try:
                filler.write(b"\0" * (TMPFS_BYTES - free_pages * PAGE))
            except OSError:
                pass
    if read_only:
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Factory of tmpfs output folders; every mount is undone after the test."""
    mounts: list[Path] = []

    def make(name: str, **kwargs: object) -> Path:
        path = tmp_path / name
        _mount_tmpfs(path, **kwargs)  # type: ignore[arg-type]
        mounts.append(path)
        return path

    yield make
    for path in mounts:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory, bundle: ProofBundle) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "bundle.json"
    save_model(bundle, path)
    return path


#: The two healthy accounts of the published example epoch that the batch tests prove.
TWO = ("futures_basis_trade", "naked_short_calls")


@pytest.fixture(scope="module")
def account_dir(tmp_path_factory: pytest.TempPathFactory, published: Path) -> Path:
    """The published example epoch with two statements: epoch.json, venue.pub, statements/."""
    folder = tmp_path_factory.mktemp("epoch") / "epoch"
    shutil.copytree(published, folder)
    for path in (folder / "statements").glob("*.json"):
        if path.stem not in TWO:
            path.unlink()
    return folder


def batch_prove(epoch_dir: Path, out: Path, workers: int) -> list[str]:
    """The arguments of ``zkmargin batch prove`` over ``epoch_dir``."""
    return ["batch", "prove", str(epoch_dir), str(SNAPSHOT), "--venue-key", str(epoch_dir / "venue.pub"),
            "-o", str(out), "--workers", str(workers)]


WRITERS = [
    "snapshot build {market} -o {out}/snapshot.json",
    "prove {statement} {snapshot} --epoch-file {epoch_file} -o {out}/proof.json",
    "venue publish {ledger} {snapshot} --epoch 1 --secret {venue_key} -o {out}/epoch",
    "venue keygen -o {out}/venue",
    "report {account} {snapshot} -o {out}/report.html",
    "schema -o {out}/schemas",
    "margin {account} {snapshot} --model all --plot {out}/plot.png",
    "export-solidity -o {out}/sol",
    "export-snarkjs {bundle} -o {out}/plain",
    "batch prove {accounts} {snapshot} --venue-key {accounts}/venue.pub -o {out}/epoch --workers 1",
    "audit --check keys -o {out}/audit.md",
    "ceremony init -d {out}/ceremony --ptau {ptau}",
]
"""Every command that writes a file, ``{out}`` being the folder that refuses it."""


def _unwritable(kind: str, tmpfs: Callable[..., Path], tmp_path: Path) -> Path:
    if kind == "read-only":
        return tmpfs("ro", read_only=True)
    if kind == "full":
        return tmpfs("full", free_pages=0)
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a folder should be")
    return blocker


@pytest.mark.parametrize("kind", ["read-only", "full", "parent is a file"])
@pytest.mark.parametrize("template", WRITERS)
def test_unwritable_output_is_one_line_before_any_work(template: str, kind: str, tmpfs: Callable[..., Path],
                                                       tmp_path: Path, keys: KeySet, bundle_file: Path,
                                                       account_dir: Path, published: Path) -> None:
    out = _unwritable(kind, tmpfs, tmp_path)
    key = tmp_path / "venue.key"
    save_key(generate_key(), key, tmp_path / "venue.pub")
    files = {"market": EXAMPLES / "market.json", "account": ACCOUNT, "snapshot": SNAPSHOT, "bundle": bundle_file,
             "accounts": account_dir, "out": out, "ptau": dev_ptau(), "ledger": EXAMPLES / "ledger.jsonl",
             "venue_key": key, "statement": published / "statements" / "hedged_market_maker.json",
             "epoch_file": published / "epoch.json"}
    args = [token.format(**{k: str(v) for k, v in files.items()}) for token in template.split()]
    started = time.monotonic()
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert time.monotonic() - started < 10, "the output was checked only after the work"


def test_batch_that_fills_its_folder_loses_no_proof(tmpfs: Callable[..., Path], keys: KeySet,
                                                    account_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """One free page: the first bundle fits, the second and the summary do not; the summary is
    rescued to the temp folder with the second proof in it."""
    out = tmpfs("one-page", free_pages=1)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(main, batch_prove(account_dir, out, 1))
    error = result.stderr.strip().splitlines()[-1]  # after the progress lines
    assert result.exit_code == 2 and error.startswith("error: cannot write"), result.output
    rescued = next(tmp_path.glob("zkmargin-batch-summary-*.json"))
    assert error.endswith(str(rescued))
    entries = json.loads(rescued.read_text())["accounts"]
    on_disk = [p for p in out.glob("*.proof.json")]
    kept = [entry for entry in entries if "bundle" in entry]
    assert len(on_disk) + len(kept) == 2, (on_disk, entries)
    vk = load_verifying_key(keys.vk)
    for entry in kept:
        bundle = ProofBundle.model_validate(entry["bundle"])
        assert verify(vk, parse_proof(bundle.proof.model_dump()), bundle.public_signals.as_list())


# --- kill -9 ------------------------------------------------------------------------------------


def _zkmargin(args: list[str], tmpdir: Path) -> subprocess.Popen[str]:
    """The CLI in a subprocess with its own temp folder, where leftovers would show."""
    tmpdir.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "zkmargin", *args], cwd=ROOT, text=True,
                            env={**os.environ, "TMPDIR": str(tmpdir)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _private_leftovers(tmpdir: Path) -> list[Path]:
    """Files a prover could have left with private data: witnesses and circuit inputs."""
    return [p for p in tmpdir.rglob("*") if p.suffix in (".wtns", ".json") or "witness" in p.name]


def _kill_and_check(proc: subprocess.Popen[str], victim: int, tmpdir: Path) -> None:
    """SIGKILL ``victim`` (proc or one of its descendants): its own descendants must die with it."""
    orphans = children(victim)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: not any(alive(pid) for pid in orphans), 15, f"the children {orphans} to die")
    assert _private_leftovers(tmpdir) == []


@pytest.mark.slow
def test_killed_prove_leaves_no_witness_and_no_snarkjs(tmp_path: Path, keys: KeySet, published: Path) -> None:
    proc = _zkmargin(["prove", str(published / "statements" / "hedged_market_maker.json"), str(SNAPSHOT),
                      "--epoch-file", str(published / "epoch.json"), "-o", str(tmp_path / "p.json")], tmp_path / "tmp")
    wait_for(lambda: any("groth16 prove" in cmdline(c) for c in children(proc.pid)), 60, "snarkjs to prove")
    _kill_and_check(proc, proc.pid, tmp_path / "tmp")
    proc.wait()
    assert not (tmp_path / "p.json").exists()


@pytest.mark.slow
def test_killed_batch_main_process_takes_its_workers_along(tmp_path: Path, keys: KeySet, account_dir: Path) -> None:
    proc = _zkmargin(batch_prove(account_dir, tmp_path / "out", 2), tmp_path / "tmp")
    wait_for(lambda: any("groth16 prove" in cmdline(c) for c in children(proc.pid)), 90, "a worker proving")
    _kill_and_check(proc, proc.pid, tmp_path / "tmp")
    proc.wait()


@pytest.mark.slow
def test_killed_batch_worker_loses_nothing(tmp_path: Path, keys: KeySet, account_dir: Path) -> None:
    out = tmp_path / "out"
    proc = _zkmargin(batch_prove(account_dir, out, 1), tmp_path / "tmp")
    provers = wait_for(lambda: [c for c in children(proc.pid) if "groth16 prove" in cmdline(c)], 90,
                        "a worker proving")
    worker = next(pid for pid in children(proc.pid) if pid in _children_of_any(provers, proc.pid))
    _kill_and_check(proc, worker, tmp_path / "tmp")
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    assert sorted(p.name for p in out.glob("*.proof.json")) == [f"{name}.proof.json" for name in TWO]
    assert "proving: 2/2" in stderr  # progress lines although stderr is not a terminal


def _children_of_any(grandchildren: list[int], root: int) -> set[int]:
    """The direct children of ``root`` that are parents of one of ``grandchildren``."""
    return {pid for pid in children(root) if children(pid) & set(grandchildren)}


@pytest.fixture(scope="module")
def toy_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(r1cs-compiled toy circuit folder, a tiny prepared dev ptau) for setup runs."""
    folder = tmp_path_factory.mktemp("toy-setup")
    compile_circuit(MUL, include_dirs=[], build_root=folder / "build", optimization=2)
    return folder, generate_dev_ptau(4, folder / "dev_bn128_4.ptau")


SETUP_SCRIPT = """
import sys
from pathlib import Path
from prover.build import compile_circuit
from prover.setup import setup_keys
folder = Path(sys.argv[1])
build = compile_circuit(Path(sys.argv[2]), include_dirs=[], build_root=folder / "build", optimization=2)
setup_keys(build, Path(sys.argv[3]), folder / "keys", circuit_id="mul")
"""


@pytest.mark.slow
def test_killed_setup_s_partial_folder_is_removed_by_the_next_run(toy_setup: tuple[Path, Path],
                                                                   tmp_path: Path) -> None:
    folder, ptau = toy_setup
    keys_dir = folder / "keys"
    proc = subprocess.Popen([sys.executable, "-c", SETUP_SCRIPT, str(folder), str(MUL), str(ptau)], cwd=ROOT,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: any(keys_dir.glob(f"{SETUP_SCRATCH}*/*.zkey")), 60, "a partial zkey")
    _kill_and_check(proc, proc.pid, tmp_path)
    proc.wait()
    assert any(keys_dir.glob(f"{SETUP_SCRATCH}*"))
    build = compile_circuit(MUL, include_dirs=[], build_root=folder / "build", optimization=2)
    made = setup_keys(build, ptau, keys_dir, circuit_id="mul")
    assert not made.cached and not any(keys_dir.glob(f"{SETUP_SCRATCH}*"))


def test_waiting_setup_says_what_it_waits_for(keys: KeySet, tmp_path: Path) -> None:
    with exclusive_lock(keys.zkey.parent / SETUP_LOCK):
        proc = _zkmargin(["setup"], tmp_path / "tmp")
        assert proc.stderr is not None
        line = proc.stderr.readline()
    assert "waiting for another setup of portfolio_small" in line
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 0, rest
