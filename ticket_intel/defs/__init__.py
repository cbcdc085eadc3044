"""The Dagster layer, and the settings of every process that runs it (a run, the code server).

Dagster marks the single-run backfill policy and asset pools as beta; they are deliberate choices
here (see partitions.py), so their warnings are not news to a user.

The garbage collector's young generation holds YOUNG_OBJECTS new objects rather than CPython's
700. A run's process keeps a million or two container objects for its whole life (its imports,
the window's tickets, their words), and the collector walks all of them each time the objects
that survived grow by a quarter: 15-20 full passes in a steady week's run, 4.5-6.8 s, a tenth of
embedding the week's 10,000 tickets (`bench.pipeline`'s gc_seconds; docs/scale.md). Collecting
young objects in larger batches costs the same per object and ends those full passes (none in
that run, 1.5 s of collecting in all); reference counting still frees everything without a
cycle at once, and the peak memory was the same."""

import gc
import warnings

import dagster as dg

YOUNG_OBJECTS = 50_000

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
