"""The hand-labelled ticket set for the signal/severity and triage benchmarks (see GUIDE.md)."""
