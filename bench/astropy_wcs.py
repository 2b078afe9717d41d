#!/usr/bin/python3
"""astropy reference throughput for TAN-SIP (run with Debian's /usr/bin/python3).

all_pix2world(x, y, 0) and all_world2pix(ra, dec, 0, tolerance=1e-8) on the
PTF and HST headers of test/data/wcs-headers, N random points in each image
(the same kind of points bench/wcs.ts uses), single thread, median of RUNS.
Prints one JSON document: {header: {pixelToSky: {pointsPerSecond}, skyToPixel: {...}}}.
"""
import json, os, sys, time, warnings
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

N = int(os.environ.get("N", "200000"))
RUNS = int(os.environ.get("RUNS", "5"))
HERE = os.path.dirname(os.path.abspath(__file__))
# The vendored headers (provenance: test/data/wcs-headers/SOURCES.md).
HEADERS = os.environ.get("SKYCAL_WCS_HEADERS") or os.path.join(HERE, "..", "test", "data", "wcs-headers")
SIZES = {"ptf_p48_sip4": (2048, 4096), "hst_acs_wfc_sip4_noinv": (4096, 2048)}

def median_time(fn):
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return float(np.median(times))

def inputs(name):
    """The header's WCS and N uniform pixels (seed 42) with their sky positions."""
    w, h = SIZES[name]
    text = open(os.path.join(HEADERS, name + ".hdr")).read()
    wcs = WCS(fits.Header.fromstring(text, sep="\n"))
    rng = np.random.default_rng(42)
    x = rng.uniform(0, w - 1, N); y = rng.uniform(0, h - 1, N)
    ra, dec = wcs.all_pix2world(x, y, 0)
    return wcs, x, y, ra, dec

warnings.simplefilter("ignore", FITSFixedWarning)
if "--serve" in sys.argv:
    # Paired mode for bench/wcs.ts: one timed call per input line "<header> <pixelToSky|skyToPixel>",
    # answered with the seconds it took, so that the caller can alternate skycal and astropy run by run.
    calls = {}
    for name in SIZES:
        wcs, x, y, ra, dec = inputs(name)
        calls[name, "pixelToSky"] = (lambda wcs=wcs, x=x, y=y: wcs.all_pix2world(x, y, 0))
        calls[name, "skyToPixel"] = (lambda wcs=wcs, ra=ra, dec=dec: wcs.all_world2pix(ra, dec, 0, tolerance=1e-8))
    print("ready", flush=True)
    for line in sys.stdin:
        fn = calls[tuple(line.split())]
        t0 = time.perf_counter(); fn(); print(time.perf_counter() - t0, flush=True)
    sys.exit(0)
out = {"n": N, "runs": RUNS}
for name in SIZES:
    wcs, x, y, ra, dec = inputs(name)
    t_p2s = median_time(lambda: wcs.all_pix2world(x, y, 0))
    t_s2p = median_time(lambda: wcs.all_world2pix(ra, dec, 0, tolerance=1e-8))
    out[name] = {"pixelToSky": {"pointsPerSecond": N / t_p2s}, "skyToPixel": {"pointsPerSecond": N / t_s2p}}
json.dump(out, sys.stdout, indent=2); print()
