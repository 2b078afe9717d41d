#!/usr/bin/env python3
"""The Python pipeline that `skycal recompute` replaces, for bench/recompute.ts:
per dataId, pyarrow read_table -> astropy all_pix2world -> numpy chebval2d ->
one pyarrow ParquetWriter, one thread (pyarrow's CPU and I/O pools set to 1).
The same 15 columns as skycal's output (dataId columns, the catalog's, the
derived ones); Snappy, no dictionary encoding, as skycal writes.

Usage: python3 bench/recompute_pipeline.py JOBS.json OUT.parquet
JOBS.json: [{"dataId": {...}, "catalog": path, "header": FITS header text, "photoCalib": JSON}]
Prints {"rows": N, "seconds": S, "rowsPerSecond": R} on stdout.
"""
import json
import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.polynomial.chebyshev import chebval2d
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

pa.set_cpu_count(1)
pa.set_io_thread_count(1)
warnings.simplefilter("ignore", FITSFixedWarning)


def calibration(pc, x, y):
    if pc["isConstant"]:
        return np.full(len(x), pc["calibrationMean"])
    f = pc["field"]
    b = f["bbox"]
    w = b["maxX"] - b["minX"] + 1.0
    h = b["maxY"] - b["minY"] + 1.0
    # The inclusive box widened by 0.5 px maps to [-1, 1] (afw's transform).
    xp = (x - (b["minX"] - 0.5)) * (2.0 / w) - 1.0
    yp = (y - (b["minY"] - 0.5)) * (2.0 / h) - 1.0
    return chebval2d(xp, yp, np.array(f["coefficients"], dtype=float).T)


def main():
    jobs = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    t0 = time.perf_counter()
    writer = None
    rows = 0
    for job in jobs:
        t = pq.read_table(job["catalog"])
        x = t.column("x").to_numpy()
        y = t.column("y").to_numpy()
        wcs = WCS(fits.Header.fromstring(job["header"], sep="\n"))
        ra, dec = wcs.all_pix2world(x, y, 0)
        c = calibration(job["photoCalib"], x, y)
        f = t.column("base_PsfFlux_instFlux").to_numpy()
        fe = t.column("base_PsfFlux_instFluxErr").to_numpy()
        flux = f * c
        flux_err = np.abs(fe * c)
        with np.errstate(divide="ignore", invalid="ignore"):
            mag = -2.5 * np.log10(flux) + 31.4
            mag_err = (2.5 / np.log(10)) * np.abs(fe / f)
        n = len(x)
        status = np.where(np.isfinite(ra) & np.isfinite(dec), 0, 1).astype(np.uint8)
        ids = job["dataId"]
        cols = {
            "detector": pa.array(np.full(n, int(ids["detector"]), dtype=np.int64)),
            "instrument": pa.array([ids["instrument"]] * n, type=pa.string()),
            "visit": pa.array(np.full(n, int(ids["visit"]), dtype=np.int64)),
        }
        for name in t.column_names:
            if name not in cols:
                cols[name] = t.column(name)
        cols.update({"coord_ra": ra, "coord_dec": dec, "status": status, "base_PsfFlux_flux": flux, "base_PsfFlux_fluxErr": flux_err, "base_PsfFlux_mag": mag, "base_PsfFlux_magErr": mag_err})
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(out, table.schema, compression="snappy", use_dictionary=False)
        writer.write_table(table, row_group_size=131072)
        rows += n
    if writer is not None:
        writer.close()
    seconds = time.perf_counter() - t0
    print(json.dumps({"rows": rows, "seconds": seconds, "rowsPerSecond": rows / seconds}))


if __name__ == "__main__":
    main()
