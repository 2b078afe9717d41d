#!/usr/bin/env python3
"""numpy reference for `skycal bench calibrate`: the same calibration of N rows
(4x4 Chebyshev field on a 2048x4176 bbox; flux, fluxErr, mag, magErr; afw 29+
error model), single-threaded, with numpy.polynomial.chebyshev.chebval2d and
log10. Prints rows/s (median of --repeat runs); --json prints
{"calibrate": {"rowsPerSecond": ...}}.

Run with Debian's numpy: /usr/bin/python3 bench/numpy_calibrate.py --n 1000000
"""
import argparse
import json
import os
import time

# One thread, to compare with the single-threaded kernel (numpy ufuncs are single-threaded anyway).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from numpy.polynomial.chebyshev import chebval2d

# Same as src/photocalib/benchCalibrate.ts, indexed [y][x].
COEFFICIENTS = np.array([
    [1000, 12, -8, 1.5],
    [9, 3, 0.8, -0.2],
    [-15, 0.6, 0.3, 0.05],
    [2, -0.4, 0.1, 0.02],
], dtype=float)
WIDTH, HEIGHT = 2048, 4176


def calibrate(x, y, inst_flux, inst_flux_err):
    # The inclusive box widened by 0.5 px maps to [-1, 1] (afw's transform).
    xp = x * (2.0 / WIDTH) - (2.0 * (WIDTH / 2 - 0.5)) / WIDTH
    yp = y * (2.0 / HEIGHT) - (2.0 * (HEIGHT / 2 - 0.5)) / HEIGHT
    c = chebval2d(xp, yp, COEFFICIENTS.T)  # numpy wants c[i][j] for T_i(x) T_j(y)
    flux = inst_flux * c
    flux_err = inst_flux_err * c
    mag = -2.5 * np.log10(flux) + 31.4
    mag_err = (2.5 / np.log(10)) * np.abs(inst_flux_err / inst_flux)
    return flux, flux_err, mag, mag_err


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    rng = np.random.default_rng(12345)
    x = rng.random(a.n) * WIDTH - 0.5
    y = rng.random(a.n) * HEIGHT - 0.5
    inst_flux = 10 ** (1 + 4 * rng.random(a.n))
    inst_flux_err = np.sqrt(inst_flux + 100)
    calibrate(x, y, inst_flux, inst_flux_err)  # warm up
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        calibrate(x, y, inst_flux, inst_flux_err)
        times.append(time.perf_counter() - t0)
    median = float(np.median(times))
    rows_per_second = a.n / median
    if a.json:
        print(json.dumps({"calibrate": {"rowsPerSecond": rows_per_second, "n": a.n, "medianMs": median * 1e3,
                                        "samples": a.repeat, "numpy": np.__version__}}))
    else:
        print(f"numpy calibrate: {rows_per_second / 1e6:.2f} M rows/s ({median * 1e9 / a.n:.2f} ns/row, "
              f"median of {a.repeat} runs of {a.n} rows, numpy {np.__version__})")


if __name__ == "__main__":
    main()
