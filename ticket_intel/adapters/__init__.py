"""I/O adapters: the code that talks to the world outside the warehouse (trackers over HTTP).

The functional core (`ticket_intel/core/`) decides what to send; an adapter sends it and turns
the other side's answers and errors into the core's types (`core.backlog.Tracker*Error`).
"""
