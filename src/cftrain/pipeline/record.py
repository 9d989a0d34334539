"""The committed record of a run (issue 24): ``record/`` (``record/<scale>/``) holds the final
outputs of the recorded run and a manifest of every per-cell artifact; the artifacts themselves
(models, training logs, evaluation tables, job logs and benchmark files) are not in git but in
one archive to deposit (e.g. on Zenodo), whose SHA-256 the manifest records.

``cftrain record pack`` (``make record``) copies a finished run's final outputs from its results
root into the record, writes ``manifest.csv`` and the archive; ``--tables-only`` (the smoke
record, ``make record-smoke``) copies only the tables and ``provenance.json``.
``cftrain record unpack ARCHIVE`` checks an archive against the committed manifest and unpacks
it where the workflow finds it, so a user gets the recorded models instead of retraining.

Manifest columns: ``path`` (relative to the repository), ``kind``, ``experiment``, ``dataset``,
``cell``, ``group``, ``protocol``, ``seed``, ``digest`` (the job's config digest, the rule's
rerun trigger: :func:`cftrain.pipeline.config.digest` of its part of the spec), ``sha256``,
``bytes``, ``archive`` (the archive holding the file: empty for the recorded run's own, the
archive's name for experiments added later). A row of kind ``archive`` is an archive's; the
copy inside an archive lacks it (a file cannot hold its own digest).

``cftrain record add`` adds experiments run on their own later (the appendix grids, say) to a
record: their tables, figures and notebook, their specs in ``provenance.json`` and their files
in the manifest and in an archive of their own.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import shutil
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cftrain.atomic import atomic_path
from cftrain.pipeline import config as cfg
from cftrain.pipeline import paths
from cftrain.pipeline.artifacts import sha256_file

FIELDS = (
    "path",
    "kind",
    "experiment",
    "dataset",
    "cell",
    "batch",
    "group",
    "protocol",
    "seed",
    "digest",
    "sha256",
    "bytes",
    "archive",
)
MANIFEST = "manifest.csv"
#: the manifest's name inside the archive (beside results/, at the archive's top)
ARCHIVE_MANIFEST = "record-manifest.csv"
#: every member of the archive gets this modification time (2026-01-01T00:00:00Z): the same
#: files always pack to the same bytes, and unpacked files all have one age, so Snakemake
#: sees none of them as newer than another
ARCHIVE_MTIME = 1767225600
#: where the PDF's pages a reader checks first are rendered (``cftrain report pages``)
PAGES_DIR = "paper/pages"
#: the per-job kinds every recorded cell must have; the pack stops when one is missing
REQUIRED = ("model", "params", "training_log", "assessment")


#: the order of the reproduction's experiments (config/reproduction.yaml), for a provenance
#: file that does not list its run's order (written before it did)
DEFAULT_ORDER = ("single", "mutability", "ablation", "initial_grid")


def experiment_order(provenance: dict[str, Any]) -> list[str]:
    """The run's experiments in its order (the first one training a model owns it)."""
    if provenance.get("experiments"):
        return list(provenance["experiments"])
    names = [n for n in provenance["config"] if n != "scale"]
    rank = {n: i for i, n in enumerate(DEFAULT_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def recorded_experiments(results: paths.Layout) -> dict[str, cfg.Experiment]:
    """The experiments of the run under ``results``: those its report listed
    (``provenance.json``) in the run's order, each as its jobs read it (``specs/<name>.json``)."""
    provenance = Path(results.path("provenance"))
    if not provenance.is_file():
        raise FileNotFoundError(f"{provenance}: no finished run to record (run the workflow)")
    names = experiment_order(json.loads(provenance.read_text()))
    return {n: cfg.read_spec(results.path("spec", experiment=n)) for n in names}


def _row(kind: str, path: str, digest: str = "", **where: Any) -> dict[str, Any]:
    return {"path": path, "kind": kind, "digest": digest, **{k: str(v) for k, v in where.items()}}


def artifacts(results: paths.Layout, experiments: dict[str, cfg.Experiment]) -> Iterator[dict]:
    """Every per-job file the workflow writes for ``experiments`` (present or not), with its
    coordinates and its job's config digest: data summaries, specs, each trained cell's model,
    training log and parameters, each evaluation table, each assessment (accuracy, robustness,
    IG), and every job's log and benchmark file."""
    exps = list(experiments.values())
    owners = cfg.model_owners(exps)
    batches: dict[tuple[str, str], list[cfg.TrainingBatch]] = {}
    for batch in cfg.training_batches(exps):  # the default train_batch_size
        batches.setdefault((batch.experiment, batch.dataset), []).append(batch)
    per_job = (("log", results.log), ("benchmark", results.benchmark))
    for ds in dict.fromkeys(d for e in exps for d in e.datasets):
        yield _row("data", results.path("data", dataset=ds), dataset=ds)
        for kind, where in per_job:
            yield _row(kind, where("data", dataset=ds), dataset=ds)
    for exp in exps:
        spec = cfg.digest(exp.spec)
        yield _row("spec", results.path("spec", experiment=exp.name), spec, experiment=exp.name)
        for kind, where in per_job:
            yield _row(kind, where("spec", experiment=exp.name), experiment=exp.name)
        for ds in exp.datasets:
            for cell in exp.cells:
                for seed in exp.seeds:
                    job = (exp.name, ds, cell.id, seed)
                    if owners[job] != job:
                        continue  # trained once, under its first owner
                    c = dict(experiment=exp.name, dataset=ds, cell=cell.id, seed=seed)
                    digest = cfg.digest(exp.training(ds, cell.id, seed))
                    for kind in ("model", "training_log", "params"):
                        yield _row(kind, results.path(kind, **c), digest, **c)
            for batch in batches.get((exp.name, ds), []):  # one training job per batch
                c = dict(experiment=exp.name, dataset=ds, batch=batch.id)
                digest = cfg.digest([exp.training(*job[1:]) for job in batch.cells])
                for kind, where in per_job:
                    yield _row(kind, where("train", **c), digest, **c)
            for seed in exp.seeds:
                for group in exp.groups:
                    for protocol in exp.protocols:
                        c = dict(
                            experiment=exp.name,
                            dataset=ds,
                            group=group,
                            protocol=protocol,
                            seed=seed,
                        )
                        digest = cfg.digest(exp.evaluation(ds, group, protocol))
                        yield _row("evaluation", results.path("evaluation", **c), digest, **c)
                        for kind, where in per_job:
                            yield _row(kind, where("evaluate", **c), digest, **c)
            digest = cfg.digest(exp.performance(ds))
            kinds = ["performance", "ig"] if exp.spec["performance"]["ig"] else ["performance"]
            for kind in kinds:
                c = dict(experiment=exp.name, dataset=ds, kind=kind)
                where = {"experiment": exp.name, "dataset": ds}
                yield _row("assessment", results.path("assessment", **c), digest, **where)
                for k, at in per_job:
                    yield _row(k, at("assess", **c), digest, **where)
        for kind, where in per_job:
            yield _row(kind, where("aggregate", experiment=exp.name), experiment=exp.name)
    for rule in ("main_table", "wall_times", "report", "paper", "verify"):
        for kind, where in per_job:
            yield _row(kind, where(rule))
    for notebook in sorted(Path(results.path("logs_dir"), "figures").glob("*.log")):
        for kind, where in per_job:
            yield _row(kind, where("figures", notebook=notebook.stem))


def manifest_rows(
    results: paths.Layout,
    experiments: dict[str, cfg.Experiment],
    evaluations: bool = False,
) -> tuple[list[dict], list[str]]:
    """(rows of the files present, paths missing): :func:`artifacts` with digests and sizes.
    Evaluation tables only with ``evaluations`` (they are large and can be recomputed from the
    models); a missing model, parameter file, training log or assessment is an error."""
    rows, missing = [], []
    for row in artifacts(results, experiments):
        if row["kind"] == "evaluation" and not evaluations:
            continue
        path = Path(row["path"])
        if not path.is_file():
            missing.append(row["path"])
            if row["kind"] in REQUIRED:
                raise FileNotFoundError(f"{path}: the recorded run lacks this {row['kind']}")
            continue
        rows.append({**row, "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return rows, missing


def write_manifest(rows: Iterable[dict], path: str | Path) -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, ARCHIVE_MTIME, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_archive(rows: list[dict], archive: str | Path, **where: Any) -> dict[str, Any]:
    """A reproducible ``.tar.gz`` of the manifest's files (paths as listed) and the manifest;
    returns the archive's own manifest row (kind ``archive``, its SHA-256 and size)."""
    manifest = io.StringIO()
    writer = csv.DictWriter(manifest, FIELDS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = manifest.getvalue().encode()
    with (
        atomic_path(archive) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.addfile(_tar_info(ARCHIVE_MANIFEST, len(data)), io.BytesIO(data))
        for row in sorted(rows, key=lambda r: r["path"]):
            with open(row["path"], "rb") as f:
                tar.addfile(_tar_info(row["path"], int(row["bytes"])), f)
    archive = Path(archive)
    row = _row("archive", archive.name, **where)
    return {**row, "sha256": sha256_file(archive), "bytes": archive.stat().st_size}


def _copy_outputs(results_root: str | Path, record: Path, outputs: Iterable[str | Path]) -> None:
    """Copy final outputs (paths relative to the results root) to the same place in the record."""
    for rel in outputs:
        target = record / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(results_root) / rel, target)


def final_outputs(results: paths.Layout, experiments: Iterable[str], tables_only: bool) -> list:
    """The run's final outputs that the record keeps, relative to its results root."""
    found: list[Path] = []
    for name in experiments:
        found += sorted(Path(results.path("tables_dir", experiment=name)).glob("*.*"))
    found += sorted(Path(results.path("cross_tables_dir")).glob("*.*"))
    found.append(Path(results.path("provenance")))
    if not tables_only:
        # the data jobs' summaries: the paper's dataset sizes, when it is built from the record
        found += sorted(Path(results.root, "data").glob("*.json"))
        for folder in ("comparison_dir", "figures_dir", "verify_dir"):
            found += sorted(Path(results.path(folder)).glob("*.*"))
        found += sorted(Path(results.root, "notebooks").glob("*.ipynb"))
        found.append(Path(results.path("paper")))
    return [results.relative(p) for p in found if p.is_file()]


def _clear(record: Path) -> None:
    """Remove a previous record's final outputs, not the records of other scales under it
    (folders with their own ``provenance.json``, e.g. ``record/smoke/``)."""
    for folder in ("tables", "data", "comparison", "figures", "notebooks", "paper", "verify"):
        shutil.rmtree(record / folder, ignore_errors=True)
    for tables in record.glob("*/tables"):
        if not (tables.parent / "provenance.json").is_file():
            shutil.rmtree(tables)
    for name in ("provenance.json", MANIFEST):
        (record / name).unlink(missing_ok=True)


def pack(
    results_root: str,
    record_root: str | Path,
    tables_only: bool = False,
    evaluations: bool = False,
    archive_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Record the finished run under ``results_root``: its final outputs into ``record_root``,
    and (unless ``tables_only``) the manifest and the archive of its per-job files."""
    results = paths.Layout(results_root)
    record = Path(record_root)
    experiments = recorded_experiments(results)
    outputs = final_outputs(results, experiments, tables_only)
    _clear(record)
    _copy_outputs(results_root, record, outputs)
    summary: dict[str, Any] = {"record": str(record), "outputs": len(outputs)}
    if not tables_only:
        _render_pages(record / "paper" / "paper.pdf", record / PAGES_DIR)
        rows, missing = manifest_rows(results, experiments, evaluations)
        scale = json.loads(Path(results.path("provenance")).read_text())["config"]["scale"]
        archive = (
            Path(archive_dir or results.path("archive_dir")) / f"cftrain-record-{scale}.tar.gz"
        )
        archive_row = write_archive(rows, archive)
        write_manifest([*rows, archive_row], record / MANIFEST)
        summary.update(
            files=len(rows),
            missing=len(missing),
            archive=str(archive),
            archive_sha256=archive_row["sha256"],
            archive_bytes=archive_row["bytes"],
        )
    return summary


def _render_pages(pdf: Path, out_dir: Path) -> None:
    """The PDF's pages with the main table, the proof-of-concept figure and the initial grid
    as PNGs (for a look without TeX; :data:`latexmk.READER_PAGES`), when pdftoppm exists; a
    page whose caption the PDF lacks (an experiment not run) is left out."""
    from cftrain.pipeline.reporting import latexmk

    if not pdf.is_file() or shutil.which("pdftoppm") is None:
        return
    for stem, text in latexmk.READER_PAGES.items():
        try:
            latexmk.render_pages(pdf, {stem: text}, out_dir)
        except latexmk.PaperBuildError:
            continue


def add(
    results_root: str,
    record_root: str | Path,
    names: Sequence[str],
    archive_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Add the experiments ``names``, finished under ``results_root`` by a run of their own
    (``--config experiments=[…]``), to the record: their tables, the figures drawn from them
    and the executed notebook that drew them, their specs in ``provenance.json`` (after the
    record's experiments, with this machine and package versions under ``added``), and their
    per-job files in the manifest and in an archive of their own. Nothing the record holds
    already is changed; an experiment it records already is refused."""
    from cftrain.pipeline.reporting import figures
    from cftrain.pipeline.reporting.provenance import provenance as run_provenance

    results, record = paths.Layout(results_root), Path(record_root)
    recorded = json.loads((record / "provenance.json").read_text())
    have = experiment_order(recorded)
    if again := [n for n in names if n in have]:
        raise SystemExit(f"{record}: already records {again}; `record pack` replaces a record")
    run = {n: cfg.read_spec(results.path("spec", experiment=n)) for n in names}
    drawn = [f for f, fig in figures.FIGURES.items() if fig.experiment in run]
    found = [
        p for n in names for p in sorted(Path(results.path("tables_dir", experiment=n)).glob("*.*"))
    ]
    found += figures.figure_paths(results.path("figures_dir"), drawn)
    notebooks = dict.fromkeys(figures.FIGURES[f].notebook for f in drawn)
    found += [Path(results.root, "notebooks", f"{nb}.ipynb") for nb in notebooks]
    if missing := [str(p) for p in found if not Path(p).is_file()]:
        raise FileNotFoundError(f"the run lacks {missing[:5]}: run its figures and tables first")
    _copy_outputs(results_root, record, [results.relative(p) for p in found])
    rows, _ = manifest_rows(results, run)
    rows = [r for r in rows if r.get("experiment") in run]  # the data are the record's
    archive = Path(archive_dir or results.path("archive_dir")) / (
        f"cftrain-record-{recorded['config']['scale']}-{'-'.join(names)}.tar.gz"
    )
    archive_row = write_archive(rows, archive, experiment=" ".join(names))
    old = read_manifest(record / MANIFEST)
    write_manifest([*old, *({**r, "archive": archive.name} for r in rows), archive_row],
                   record / MANIFEST)  # fmt: skip
    this = run_provenance({n: e.spec for n, e in run.items()}, names)
    recorded["config"].update(this.pop("config"))
    recorded["experiments"] = [*have, *names]
    recorded.setdefault("added", []).append(this)
    with atomic_path(record / "provenance.json") as tmp:
        tmp.write_text(json.dumps(recorded, indent=2) + "\n")
    return {"record": str(record), "outputs": len(found), "files": len(rows),
            "archive": str(archive), "archive_sha256": archive_row["sha256"]}  # fmt: skip


def unpack(archive: str | Path, record_root: str | Path, into: str | Path = ".") -> dict:
    """Check ``archive`` against the record's manifest (its SHA-256, then every file's), and
    unpack it into ``into`` (the repository: the files land under ``results/``)."""
    rows = read_manifest(Path(record_root) / MANIFEST)
    expected = [r for r in rows if r["kind"] == "archive"]
    actual = sha256_file(archive)
    match = [r for r in expected if r["sha256"] == actual]
    if not match:
        want = ", ".join(r["sha256"] for r in expected) or "none recorded"
        raise SystemExit(f"{archive}: SHA-256 {actual} is not the record's ({want})")
    # the recorded run's own archive holds the rows without an archive name; an added one, its
    own = "" if match[0] is expected[0] else match[0]["path"]
    files = {
        r["path"]: r for r in rows if r["kind"] != "archive" and (r.get("archive") or "") == own
    }
    into = Path(into)
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name != ARCHIVE_MANIFEST]
        unknown = sorted(m.name for m in members if m.name not in files)
        if unknown:
            raise SystemExit(f"{archive}: files not in the manifest: {unknown[:5]}")
        tar.extractall(into, members=members, filter="data")
    bad = [p for p, r in files.items() if sha256_file(into / p) != r["sha256"]]
    if bad:
        raise SystemExit(f"unpacked files differ from the manifest: {bad[:5]}")
    return {"files": len(files), "into": str(into)}


def register(parser: argparse.ArgumentParser) -> None:
    """``cftrain record pack | add | unpack``."""
    sub = parser.add_subparsers(dest="record_command", required=True)
    p = sub.add_parser("pack", help="record a finished run: final outputs, manifest, archive")
    p.add_argument("--results", default=paths.root(paths.MAIN_SCALE), help="the run's root")
    p.add_argument("--record", default=paths.record_root(paths.MAIN_SCALE))
    p.add_argument("--tables-only", action="store_true", help="tables and provenance only")
    p.add_argument("--with-evaluations", action="store_true", help="archive the parquet tables")
    p.add_argument("--archive-dir", help="where the archive goes (default <results>/archive)")
    p = sub.add_parser("add", help="add experiments run on their own to the record")
    p.add_argument("experiments", nargs="+", help="their names (each its tables, figures, files)")
    p.add_argument("--results", default=paths.root(paths.MAIN_SCALE), help="their run's root")
    p.add_argument("--record", default=paths.record_root(paths.MAIN_SCALE))
    p.add_argument("--archive-dir", help="where their archive goes (default <results>/archive)")
    p = sub.add_parser("unpack", help="check an archive against the manifest and unpack it")
    p.add_argument("archive", type=Path)
    p.add_argument("--record", default=paths.record_root(paths.MAIN_SCALE))
    p.add_argument("--into", default=".", help="the repository (files land under results/)")


def main(args: argparse.Namespace) -> str:
    if args.record_command == "pack":
        summary = pack(
            args.results, args.record, args.tables_only, args.with_evaluations, args.archive_dir
        )
    elif args.record_command == "add":
        summary = add(args.results, args.record, args.experiments, args.archive_dir)
    else:
        summary = unpack(args.archive, args.record, args.into)
    return f"record {args.record_command}: {json.dumps(summary)}"
