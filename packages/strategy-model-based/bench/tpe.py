"""Optuna's TPE sampler on the NAS-Bench-201 table, with the protocol of naskit's suite.

Each run has a seed and a budget of unique queries: six categorical parameters (one per edge of
the cell, five ops each), the objective `<dataset>_valid_12ep`; an architecture proposed again is
answered from the run's cache and not counted. The result is the `<dataset>_test` of the queried
architecture with the best signal (the first one found on ties), and the curve is that value
after each unique query. Prints one JSON object per run on stdout.

    python tpe.py --table nb201.csv --dataset cifar10 --seeds 0:99 --queries 100
"""

import argparse
import csv
import json
import sys
import time

import optuna

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
# edges of the arch string |a~0|+|b~0|c~1|+|d~0|e~1|f~2|
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


def arch_string(ops):
    a, b, c, d, e, f = ops
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--table", required=True)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--seeds", default="0:99")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    lo, hi = (int(x) for x in args.seeds.split(":"))
    valid_col = f"{args.dataset}_valid_12ep"
    test_col = f"{args.dataset}_test"
    table = {}
    with open(args.table, newline="") as f:
        for row in csv.DictReader(f):
            table[row["arch"]] = (float(row[valid_col]), float(row[test_col]))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for seed in range(lo, hi + 1):
        sampler = optuna.samplers.TPESampler(seed=seed)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        queried = {}
        best_valid = None
        best_test = None
        curve = []
        proposals = 0
        started = time.perf_counter()
        sampler_seconds = 0.0
        while len(queried) < args.queries and proposals < args.queries * 20 + 1000:
            t0 = time.perf_counter()
            trial = study.ask()
            ops = [
                trial.suggest_categorical(f"edge_{i}_{j}", OPS) for (i, j) in EDGES
            ]
            sampler_seconds += time.perf_counter() - t0
            proposals += 1
            arch = arch_string(ops)
            valid, test = table[arch]
            if arch not in queried:
                queried[arch] = True
                if best_valid is None or valid > best_valid:
                    best_valid = valid
                    best_test = test
                curve.append(best_test)
            t0 = time.perf_counter()
            study.tell(trial, valid)
            sampler_seconds += time.perf_counter() - t0
        while len(curve) < args.queries:
            curve.append(curve[-1])
        print(
            json.dumps(
                {
                    "seed": seed,
                    "result": best_test,
                    "bestValid": best_valid,
                    "queries": len(queried),
                    "proposals": proposals,
                    "curve": curve,
                    "durationMs": (time.perf_counter() - started) * 1000,
                    "msPerProposal": sampler_seconds * 1000 / max(1, proposals),
                }
            ),
            flush=True,
        )
    print(json.dumps({"optuna": optuna.__version__}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
