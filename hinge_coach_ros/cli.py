"""The ``hinge-coach`` command: run the rig, make sessions, analyze, benchmark."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from .errors import USER_ERRORS
from .graph import ARGUMENT_HELP, GraphArgs


def _cmd_run(ns: argparse.Namespace) -> int:
    from .runner import Rig  # rclpy is only needed here

    args = GraphArgs(**{f.name: getattr(ns, f.name) for f in fields(GraphArgs)})
    rig = Rig(args)
    try:
        if ns.duration_s:
            rig.spin_until(lambda: False, ns.duration_s)
        elif not rig.spin_session(timeout_s=ns.timeout_s):
            print("hinge-coach: error: the session did not end within --timeout-s", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        pass
    finally:
        rig.close()
    return 0


def _cmd_synth(ns: argparse.Namespace) -> int:
    from .athlete import AthleteSpec, CameraPlacement, generate, parse_fault
    from .session_io import write_session

    faults: dict[int, dict[str, float]] = {}
    for text in ns.fault:
        rep, fault_id, magnitude = parse_fault(text)
        faults.setdefault(rep, {})[fault_id] = magnitude
    spec = AthleteSpec(
        preset=ns.preset,
        reps=ns.reps,
        height_m=ns.height_m,
        faults=faults,
        camera=CameraPlacement(view=ns.view, distance_m=ns.distance_m, height_m=ns.camera_height_m),
        fps=ns.fps,
        seed=ns.seed,
    )
    out = Path(ns.out_dir) / "session.csv"
    write_session(generate(spec), out)
    print(f"wrote {out} and {out.with_suffix('.truth.json')}")
    return 0


def _cmd_analyze(ns: argparse.Namespace) -> int:
    import json

    from .analysis import analyze, format_table

    result = analyze(Path(ns.input), up=ns.up, exercise=ns.exercise, patient_profile=ns.patient_profile)
    print(format_table(result))
    if ns.json:
        Path(ns.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


def _cmd_bench(ns: argparse.Namespace) -> int:
    from .bench import run_benchmarks

    run_benchmarks(repeats=ns.repeats, quick=ns.quick)
    return 0


def _cmd_accuracy(ns: argparse.Namespace) -> int:
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
    from .athlete import PRESETS

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

    synth = sub.add_parser("synth", help="write a synthetic athlete session (skeleton CSV + truth)")
    synth.add_argument("out_dir")
    synth.add_argument("--preset", choices=sorted(PRESETS), default="dowel")
    synth.add_argument("--reps", type=int, default=5)
    synth.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="REP:ID:MAGNITUDE",
        help="inject a fault, e.g. 2:squat:45 (repeatable)",
    )
    synth.add_argument("--view", choices=("side", "oblique45"), default="side")
    synth.add_argument("--distance-m", type=float, default=3.0)
    synth.add_argument("--camera-height-m", type=float, default=1.0)
    synth.add_argument("--height-m", type=float, default=1.75, help="athlete's body height")
    synth.add_argument("--fps", type=float, default=30.0)
    synth.add_argument("--seed", type=int, default=7)
    synth.set_defaults(func=_cmd_synth)

    analyze = sub.add_parser(
        "analyze", help="run the alignment engine offline on a RealSense recording, a video or a skeleton CSV"
    )
    analyze.add_argument("input")
    analyze.add_argument("--json", help="write the full report to this file")
    analyze.add_argument(
        "--up", help="gravity-up vector X,Y,Z in the skeleton frame (default: from the feet)"
    )
    analyze.add_argument("--exercise", choices=("dowel", "box_lift", "deadlift"), default="dowel")
    analyze.add_argument("--patient-profile", default="", help="YAML of per-patient threshold overrides")
    analyze.set_defaults(func=_cmd_analyze)

    bench = sub.add_parser(
        "bench", help="time the C++ kernels against their numpy references, and against BlazePose"
    )
    bench.add_argument("--repeats", type=int, default=200)
    bench.add_argument("--quick", action="store_true", help="3 repeats: checks that it runs, not timings")
    bench.set_defaults(func=_cmd_bench)

    accuracy = sub.add_parser("accuracy", help="the engine against the synthetic athlete's truth: a table")
    accuracy.add_argument("--quick", action="store_true", help="one seed instead of three")
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
    except (*USER_ERRORS, ValueError) as exc:
        print(f"hinge-coach: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
