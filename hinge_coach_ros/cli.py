"""The ``hinge-coach`` command: run the rig, make sessions, analyze, benchmark."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

from .errors import USER_ERRORS
from .graph import ARGUMENT_HELP, GraphArgs


@contextmanager
def _writing(target: Path) -> Iterator[None]:
    """The system refusing a write under ``target`` (no such folder, a folder, read-only) as a
    one-line error instead of a traceback."""
    try:
        yield
    except OSError as exc:
        raise ValueError(f"cannot write {exc.filename or target}: {exc.strerror or exc}") from None


def _count(text: str) -> int:
    """argparse type of a count (frames, repeats, workers, a stride): an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _cmd_run(ns: argparse.Namespace) -> int:
    from .runner import Rig  # rclpy is only needed here

    args = GraphArgs(**{f.name: getattr(ns, f.name) for f in fields(GraphArgs)})
    rig = Rig(args)
    camera = rig.nodes["camera_node"]
    # Ctrl-C or SIGTERM (kill, systemd, a container stop) ends the spin; rig.close() then sends
    # the LED and the mount to their safe state (SIGTERM's default would end the process first).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: setattr(rig, "stop_requested", True))
    try:
        if ns.duration_s:
            rig.spin_until(lambda: False, ns.duration_s)
        elif not rig.spin_session(timeout_s=ns.timeout_s) and not rig.stop_requested:
            print("hinge-coach: error: the session did not end within --timeout-s", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        pass
    finally:
        rig.close()
    if camera.device_state.startswith("error"):
        print(f"hinge-coach: {camera.device_state}", file=sys.stderr)
        return 1
    return 0


def _cmd_synth(ns: argparse.Namespace) -> int:
    from .athlete import AthleteSpec, CameraPlacement, check_fault, generate, parse_fault
    from .session_io import write_session

    if ns.embedded:
        from .rs_recording import embedded_rgbd_session

        print(embedded_rgbd_session(workers=ns.workers))
        return 0
    if not ns.out_dir:
        raise ValueError("synth needs OUT_DIR (or --embedded for the default RGB-D session)")
    faults: dict[int, dict[str, float]] = {}
    for text in ns.fault:
        rep, fault_id, magnitude = parse_fault(text)
        check_fault(fault_id, magnitude)
        faults.setdefault(rep, {})[fault_id] = magnitude
    spec = AthleteSpec(
        preset=ns.preset,
        reps=ns.reps,
        height_m=ns.height_m,
        faults=faults,
        camera=CameraPlacement(view=ns.view, distance_m=ns.distance_m, height_m=ns.camera_height_m),
        fps=ns.fps,
        seed=ns.seed,
        tempo=ns.tempo,
        depth=ns.depth,
        knee_bend_deg=ns.knee_bend_deg,
        stance_width_m=ns.stance_width_m,
    )
    out_dir = Path(ns.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"cannot write {out_dir}: it is a file; OUT_DIR must be a folder")
    with _writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)  # refused now, not after the rendering
    if ns.format in ("skeleton", "both"):
        out = out_dir / "session.csv"
        with _writing(out):
            write_session(generate(spec), out)
        print(f"wrote {out} and {out.with_suffix('.truth.json')}")
    if ns.format in ("rgbd", "both"):
        from .rs_recording import write_rgbd_session

        with _writing(out_dir):
            recording, truth = write_rgbd_session(spec, out_dir, workers=ns.workers)
        print(f"wrote {recording} (RealSense recording, depth aligned to colour) and {truth}")
    return 0


def _cmd_bench_render(ns: argparse.Namespace) -> int:
    from .render import benchmark

    result = benchmark(frames=ns.frames, workers=ns.workers, preset=ns.preset)
    one = result["fps_1_process"]
    print(f"RGB-D synthetic athlete, 640x480, {int(result['frames'])} frames ({ns.preset})")
    print(f"{'1 process':<14} {one:7.1f} frames/s")
    key = f"fps_{ns.workers}_processes"
    if key in result:
        print(f"{f'{ns.workers} processes':<14} {result[key]:7.1f} frames/s  ({result[key] / one:.2f}x)")
    return 0


def _cmd_check_pose(ns: argparse.Namespace) -> int:
    from .athlete import PRESETS, AthleteSpec, CameraPlacement
    from .pose_check import check_blazepose

    presets = sorted(PRESETS) if ns.preset == "all" else [ns.preset]
    views = ("side", "oblique45") if ns.view == "all" else (ns.view,)
    print(f"{'preset':<11} {'view':<10} {'frames':>6} {'found':>7} {'median px':>9} {'p90 px':>7}")
    worst = 1.0
    for preset in presets:
        for view in views:
            spec = AthleteSpec(
                preset=preset,
                reps=ns.reps,
                faults={2: {"rounded_back": 20.0}} if ns.reps >= 2 else {},
                camera=CameraPlacement(view=view, distance_m=ns.distance_m),
                landmark_noise_m=0.0,
            )
            r = check_blazepose(spec, stride=ns.stride)
            worst = min(worst, r.found_fraction)
            print(
                f"{preset:<11} {view:<10} {r.frames:>6} {100 * r.found_fraction:>6.1f}% "
                f"{r.median_error_px:>9.1f} {r.p90_error_px:>7.1f}"
            )
    return 0 if worst >= 0.95 else 1


def _cmd_analyze(ns: argparse.Namespace) -> int:
    import json

    from .analysis import analyze, format_table

    report = Path(ns.json) if ns.json else None
    if report is not None and (report.is_dir() or not report.parent.is_dir()):
        # Refused before the analysis (minutes for a video), not after it.
        reason = "it is a folder" if report.is_dir() else f"no folder {report.parent}"
        raise ValueError(f"cannot write {report}: {reason}")
    result = analyze(
        Path(ns.input),
        up=ns.up,
        exercise=ns.exercise,
        patient_profile=ns.patient_profile,
        rotate_deg=ns.rotate,
    )
    print(format_table(result))
    if report is not None:
        # Strict JSON: a value not measured is null (``analysis._rounded``); a NaN left is a bug.
        text = json.dumps(result, indent=1, allow_nan=False) + "\n"
        with _writing(report):
            report.write_text(text)
    return 0


def _cmd_bench(ns: argparse.Namespace) -> int:
    from .bench import run_benchmarks

    run_benchmarks(repeats=ns.repeats, quick=ns.quick)
    return 0


def _cmd_bench_camera(ns: argparse.Namespace) -> int:
    from .bench import run_camera_benchmark
    from .rs_recording import embedded_rgbd_session

    recording = ns.recording or str(embedded_rgbd_session())
    run_camera_benchmark(recording, frames=ns.frames, align=ns.align)
    return 0


def _cmd_accuracy(ns: argparse.Namespace) -> int:
    if ns.rgbd:
        from .accuracy import evaluate_rgbd, format_rgbd
        from .athlete import RGBD_DEMO_SPEC

        print(format_rgbd(evaluate_rgbd([RGBD_DEMO_SPEC] if ns.quick else None)))
        return 0
    from .accuracy import evaluate, format_result

    result = evaluate(seeds=(1,) if ns.quick else (1, 2, 3))
    print(format_result(result))
    return 0


def _cmd_params(ns: argparse.Namespace) -> int:
    from .alignment import fault_table
    from .params import defaults_yaml, markdown_table

    if ns.faults:
        print(fault_table(), end="")
    else:
        print(markdown_table() if ns.markdown else defaults_yaml(), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    from .athlete import FAULT_IDS, PRESETS

    top = argparse.ArgumentParser(prog="hinge-coach", description="Hip-hinge coaching station.")
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole rig in one process (all nodes, one executor)")
    defaults = GraphArgs()
    for f in fields(GraphArgs):
        run.add_argument(
            f"--{f.name.replace('_', '-')}", default=getattr(defaults, f.name), help=ARGUMENT_HELP[f.name]
        )
    run.add_argument(
        "--timeout-s", type=float, default=600.0, help="give up if the session has not ended by then"
    )
    run.add_argument(
        "--duration-s", type=float, default=0.0, help="run this long instead of until the session ends"
    )
    run.set_defaults(func=_cmd_run)

    synth = sub.add_parser(
        "synth",
        help="write a synthetic athlete session (RealSense RGB-D recording and/or skeleton CSV, + truth)",
    )
    synth.add_argument("out_dir", nargs="?", help="output folder")
    synth.add_argument(
        "--format",
        choices=("both", "rgbd", "skeleton"),
        default="both",
        help="rgbd: rgbd.db3 + rgbd.truth.json; skeleton: session.csv + session.truth.json",
    )
    synth.add_argument("--preset", choices=sorted(PRESETS), default="dowel")
    synth.add_argument("--reps", type=int, default=5)
    synth.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="REP:ID:MAGNITUDE",
        help=f"inject a fault, e.g. 2:rounded_back:20 (repeatable); ids: {', '.join(FAULT_IDS)}",
    )
    synth.add_argument("--view", choices=("side", "oblique45"), default="side")
    synth.add_argument("--distance-m", type=float, default=3.0, help="camera to athlete, 2-4 m")
    synth.add_argument("--camera-height-m", type=float, default=1.0)
    synth.add_argument("--height-m", type=float, default=1.75, help="athlete's body height")
    synth.add_argument("--tempo", type=float, default=1.0, help="> 1 moves faster")
    synth.add_argument("--depth", type=float, default=1.0, help="hinge depth factor (trunk inclination)")
    synth.add_argument("--knee-bend-deg", type=float, default=None, help="knee flexion at the bottom")
    synth.add_argument("--stance-width-m", type=float, default=None, help="ankle to ankle")
    synth.add_argument("--fps", type=float, default=30.0)
    synth.add_argument("--seed", type=int, default=7)
    synth.add_argument("--workers", type=_count, default=None, help="rendering processes (default: up to 2)")
    synth.add_argument(
        "--embedded", action="store_true", help="print the default RGB-D session's path (render it if needed)"
    )
    synth.set_defaults(func=_cmd_synth)

    bench_render = sub.add_parser("bench-render", help="frames per second of the RGB-D synthetic athlete")
    bench_render.add_argument("--frames", type=_count, default=90)
    bench_render.add_argument("--workers", type=_count, default=2)
    bench_render.add_argument("--preset", choices=sorted(PRESETS), default="dowel")
    bench_render.set_defaults(func=_cmd_bench_render)

    check_pose = sub.add_parser(
        "check-pose", help="run BlazePose on the rendered athlete and compare with the truth (pixels)"
    )
    check_pose.add_argument("--preset", choices=["all", *sorted(PRESETS)], default="all")
    check_pose.add_argument("--view", choices=("all", "side", "oblique45"), default="all")
    check_pose.add_argument("--reps", type=int, default=2, help="rep 2 has a rounded back")
    check_pose.add_argument("--distance-m", type=float, default=3.0)
    check_pose.add_argument(
        "--stride", type=_count, default=1, help="every n-th frame (1: all, tracking mode)"
    )
    check_pose.set_defaults(func=_cmd_check_pose)

    analyze = sub.add_parser(
        "analyze", help="run the alignment engine offline on a RealSense recording, a video or a skeleton CSV"
    )
    analyze.add_argument("input")
    analyze.add_argument("--json", help="write the full report to this file")
    analyze.add_argument(
        "--up",
        help="gravity-up vector X,Y,Z in the skeleton frame "
        "(default: a CSV's '# up:' line, else from the feet)",
    )
    analyze.add_argument("--exercise", choices=sorted(PRESETS), default="dowel")
    analyze.add_argument("--patient-profile", default="", help="YAML of per-patient threshold overrides")
    analyze.add_argument(
        "--rotate",
        type=int,
        choices=(0, 90, 180, 270),
        help="turn a video's frames clockwise by this much instead of following its rotation metadata",
    )
    analyze.set_defaults(func=_cmd_analyze)

    bench = sub.add_parser(
        "bench", help="time the C++ kernels against their numpy references, and against BlazePose"
    )
    bench.add_argument("--repeats", type=_count, default=200)
    bench.add_argument("--quick", action="store_true", help="3 repeats: checks that it runs, not timings")
    bench.set_defaults(func=_cmd_bench)

    bench_camera = sub.add_parser(
        "bench-camera", help="camera node time per frame (capture, align, pose, lift, publish) on a recording"
    )
    bench_camera.add_argument("recording", nargs="?", default="", help="default: the embedded RGB-D session")
    bench_camera.add_argument("--frames", type=_count, default=200)
    bench_camera.add_argument("--align", action="store_true", help="include rs.align, as for a live camera")
    bench_camera.set_defaults(func=_cmd_bench_camera)

    accuracy = sub.add_parser("accuracy", help="the engine against the synthetic athlete's truth: a table")
    accuracy.add_argument(
        "--quick",
        action="store_true",
        help="one seed instead of three; with --rgbd, the embedded session only",
    )
    accuracy.add_argument(
        "--rgbd",
        action="store_true",
        help="from rendered RGB-D through the camera pipeline (BlazePose, depth lifting), live and "
        "offline smoothing; renders the sessions into the cache on first use (minutes)",
    )
    accuracy.set_defaults(func=_cmd_accuracy)

    params = sub.add_parser("params", help="print every parameter with its default and range")
    params.add_argument("--markdown", action="store_true", help="as the README's table instead of YAML")
    params.add_argument(
        "--faults", action="store_true", help="the fault checks and their thresholds (markdown)"
    )
    params.set_defaults(func=_cmd_params)
    return top


def main(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        return ns.func(ns)
    # OSError: a file the command read or wrote, refused by the system.
    except (*USER_ERRORS, ValueError, OSError) as exc:
        print(f"hinge-coach: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
