#!/usr/bin/env python3
"""One entry point for a fresh machine: `python3.11 tasks.py demo|test|setup|lint|gui|mutate`.

`test --cov` adds branch coverage per package; `mutate [MODULE ...]` runs mutmut on the risky modules
(one at a time, with only the tests that cover each; slow, never in CI; see docs/DEVELOPING.md).

It creates `.venv` with this interpreter, installs the project with the CPU extras (onnxruntime, and
through [train] torch 2.13.0, the CPU build that pip finds on these machines), the test tools and Ray (so
the cluster tests run on a local Ray instance), and runs the chosen job.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".t2ipal-installed"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    if code != 0:
        sys.exit(code)


def setup(extras: str = "cpu,test,cluster,train") -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"T2I-PAL Tagger needs Python 3.11; this is {sys.version.split()[0]}. Run: python3.11 tasks.py ...")
    want = hashlib.sha1((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == want:
        return
    if not PY.exists():
        run(sys.executable, "-m", "venv", VENV)
    t0 = time.monotonic()
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f".[{extras}]")
    STAMP.write_text(want)
    print(f"environment ready in {time.monotonic() - t0:.0f} s ({VENV})", flush=True)


def test_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["HF_HUB_OFFLINE"] = "1"
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def lint() -> None:
    run(BIN / "ruff", "check", "engine", "t2ipal_gui", "tests", "bench", "tasks.py")
    run(BIN / "lint-imports")
    run(BIN / "mypy")


# --- mutation testing (mutmut; docs/DEVELOPING.md "Mutation testing") -------------------------------------
# The modules where a silent bug costs users most. Each has a file tests/mutation/<module>.toml holding the
# narrowest tests that cover it and the survivors no test can or should kill, each with why.
MUTATION_SPECS = ROOT / "tests" / "mutation"
MUTATION_DIR = ROOT / ".mutation"  # one work folder per module (git-ignored): mutmut writes mutants/ there
MUTATION_TARGET_SCORE = 85.0  # % of the mutants that are not equivalent (issue #19)


def mutation_specs() -> dict[str, dict]:
    """module path -> its spec: `tests` (a list), `equivalent` and `harmless` (mutant name -> why)."""
    import tomllib

    specs = {}
    for path in sorted(MUTATION_SPECS.glob("*.toml")):
        spec = tomllib.loads(path.read_text())
        specs[spec["module"]] = spec
    return specs


def mutation_config(module: str, tests: list[str]) -> str:
    """A pyproject.toml for one module's mutmut run: the project's [tool.mutmut] plus this module's scope."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    conf = dict(project.get("mutmut", {}))
    conf["only_mutate"] = [module]
    conf["pytest_add_cli_args_test_selection"] = [t for t in tests if (ROOT / t.split("::")[0]).exists()]
    lines = ["[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in conf.items()]
    lines += ["", "[tool.pytest.ini_options]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in project["pytest"]["ini_options"].items() if k != "addopts"]
    return "\n".join(lines) + "\n"


def mutation_work_dir(module: str, tests: list[str]) -> Path:
    """A fresh folder holding links to the sources and tests and this module's mutmut config."""
    work = MUTATION_DIR / module.removesuffix(".py").replace("/", ".")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("engine", "t2ipal_gui", "tests"):
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    (work / "pyproject.toml").write_text(mutation_config(module, tests))
    return work


def mutation_score(work: Path, spec: dict, names: list[str]) -> dict[str, object]:
    """The module's score from mutmut's results file: killed / (run - survivors the spec explains as equivalent).

    A harmless survivor counts as not killed; an unexplained survivor needs a test or an entry in the spec.
    """
    module = spec["module"]
    meta = json.loads((work / "mutants" / (module + ".meta")).read_text())
    codes = meta["exit_code_by_key"]
    if names:
        codes = {k: codes.get(k) for k in names}
    # mutmut's exit codes: 1/3 a test failed, 36/24/-24/152/255 a timeout, -9/-11 a crash; 0 survived,
    # 5/33 no test ran it, 34 skipped, 35 suspicious, None not checked. Only the first group counts as killed.
    killed = {k for k, c in codes.items() if c in (1, 3, 36, 24, -24, 152, 255, -9, -11)}
    prefix = module.removesuffix(".py").replace("/", ".") + "."
    short = {k: k.removeprefix(prefix) for k in codes}
    equivalent = {k for k in codes if k not in killed and short[k] in spec.get("equivalent", {})}
    harmless = {k for k in codes if k not in killed and short[k] in spec.get("harmless", {})}
    unexplained = sorted(short[k] for k in codes if k not in killed | equivalent | harmless)
    listed = set(spec.get("equivalent", {})) | set(spec.get("harmless", {}))
    stale = sorted(short[k] for k in killed if short[k] in listed)  # listed as surviving, but a test kills it now
    counted = len(codes) - len(equivalent)
    return {"module": module, "killed": len(killed), "total": len(codes), "equivalent": len(equivalent),
            "harmless": len(harmless), "unexplained": unexplained, "stale": stale,
            "score": 100.0 * len(killed) / max(1, counted)}


def mutant_sample(work: Path, module: str, mutmut: Path, size: int) -> list[str]:
    """Every k-th of the module's mutants (sorted by name, so the same sample each time), at most `size`."""
    subprocess.call([str(mutmut), "run", "no-such-mutant"], cwd=work, env=test_env(),
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # generates the mutants, runs none
    names = sorted(json.loads((work / "mutants" / (module + ".meta")).read_text())["exit_code_by_key"])
    step = max(1, -(-len(names) // size))
    return names[::step]


def mutate(modules: list[str], children: int, sample: int = 0) -> bool:
    """Run mutmut on each module in turn and print the score per module; survivors go to .mutation/.

    `sample` > 0 runs a deterministic sample of at most that many mutants per module (for slow modules).
    Returns whether every module run reached the target score.
    """
    specs = mutation_specs()
    bad = [m for m in modules if m not in specs]
    if bad:
        sys.exit(f"no mutation target {bad[0]!r}; choose from: {', '.join(specs)}")
    mutmut = BIN / "mutmut"
    if not mutmut.exists():
        sys.exit("mutmut is not installed: pip install -e '.[mutation]'")
    scores = []
    for module in modules or list(specs):
        work = mutation_work_dir(module, specs[module]["tests"])
        print(f"== {module}", flush=True)
        names = mutant_sample(work, module, mutmut, sample) if sample else []
        subprocess.call([str(mutmut), "run", "--max-children", str(children), *names], cwd=work, env=test_env(),
                        stdout=subprocess.DEVNULL)
        try:
            score = mutation_score(work, specs[module], names)
        except (OSError, KeyError, ValueError) as exc:
            print(f"   no results for {module}: {exc} (see `cd {work} && mutmut run`)", flush=True)
            continue
        (work / "survivors.txt").write_text("".join(f"{n}\n" for n in score["unexplained"]))
        scores.append(score)
        print(f"   {score['killed']}/{score['total']} killed, {len(score['unexplained'])} unexplained survivors "
              f"({work / 'survivors.txt'}; `cd {work} && mutmut show NAME`)", flush=True)
        if score["stale"]:
            print(f"   killed now, so remove from the spec: {', '.join(score['stale'])}", flush=True)
    print_mutation_table(scores)
    return all(s["score"] >= MUTATION_TARGET_SCORE for s in scores)


def print_mutation_table(scores: list[dict]) -> None:
    print(f"\n{'module':34} {'mutants':>7} {'killed':>6} {'equiv.':>6} {'harml.':>6} {'unexpl.':>7} {'score':>6}")
    for s in scores:
        print(f"{s['module']:34} {s['total']:>7} {s['killed']:>6} {s['equivalent']:>6} {s['harmless']:>6} "
              f"{len(s['unexplained']):>7} {s['score']:>5.1f}%")
    print(f"score = killed / (mutants - equivalent); target {MUTATION_TARGET_SCORE:.0f}% per module")


def print_coverage_by_package() -> None:
    """Branch coverage (statements and branches counted together, as coverage.py does) per package and risky module."""
    import io

    import coverage

    cov = coverage.Coverage(data_file=str(ROOT / ".coverage"))
    cov.load()
    measured = sorted(Path(f).resolve().relative_to(ROOT) for f in cov.get_data().measured_files()
                      if Path(f).resolve().is_relative_to(ROOT))
    packages = sorted({str(f.parent) for f in measured})
    print(f"\n{'package':34} {'files':>5} {'cover':>6}")
    for package in packages:
        files = [str(ROOT / f) for f in measured if str(f.parent) == package]
        percent = cov.report(include=files, file=io.StringIO())
        print(f"{package + '/':34} {len(files):>5} {percent:>5.0f}%")
    risky = {m: cov.report(include=[str(ROOT / m)], file=io.StringIO()) for m in mutation_specs()}
    print(f"\n{'risky module (tests/mutation)':34} {'cover':>6}")
    for module, percent in sorted(risky.items(), key=lambda item: item[1]):
        print(f"{module:34} {percent:>5.0f}%")


def main(argv: list[str]) -> None:
    job = argv[0] if argv else "help"
    if job == "setup":
        setup()
    elif job == "lint":
        setup()
        lint()
    elif job == "test":
        setup()
        lint()
        args = argv[1:]
        cov = "--cov" in args  # branch coverage per package: a map of what the tests never run, not a target
        if cov:
            args = [a for a in args if a != "--cov"]
            args += ["--cov=engine", "--cov=t2ipal_gui", "--cov-branch", "--cov-report="]
        run(PY, "-m", "pytest", "-q", *args, env=test_env())
        if cov:
            run(PY, __file__, "coverage-report")
    elif job == "coverage-report":  # run by `test --cov` with the venv's interpreter, which has coverage
        print_coverage_by_package()
    elif job == "mutate":
        setup("cpu,test,cluster,train,mutation")
        args = argv[1:]
        sample = 0
        if "--sample" in args:  # --sample N: a deterministic sample of at most N mutants per module
            i = args.index("--sample")
            sample = int(args[i + 1])
            del args[i : i + 2]
        if not mutate(args, children=int(os.environ.get("MUTATE_CHILDREN", "2")), sample=sample):
            sys.exit(1)
    elif job == "demo":
        setup()
        run(BIN / "t2ipal", "demo", "run", *argv[1:])
    elif job == "gui":
        setup()
        run(BIN / "t2ipal", "gui", *argv[1:])
    else:
        print(__doc__)
        sys.exit(0 if job in ("help", "-h", "--help") else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
