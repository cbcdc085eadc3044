"""The Dagster layer. Dagster marks the single-run backfill policy and asset pools as beta; they
are deliberate choices here (see partitions.py), so their warnings are not news to a user."""

import warnings

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
