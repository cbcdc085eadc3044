"""Build the committed demo sample in ``data/sample/`` from banking77 texts.

The sample imitates three helpdesk exports (Zendesk, Intercom, Freshdesk) over 12 weeks, with planted
patterns (a volume spike, a new intent, a deflection by a help-center article, an Enterprise segment), planted PII
and planted malformed records, beside a releases file and a help-center export with known coverage. The customer texts are
real banking77 queries; every other field is synthetic. Only the standard library is used and every random
draw comes from a ``random.Random`` seeded with a fixed string, with dates fixed in code, so two runs write
byte-identical files. ``planted.json`` is the ground truth the tests assert on; the verifier re-reads the
written files and fails the build loudly if a stated property does not hold.

Run from the repository root: ``python -m scripts.build_sample``. Stages, in build order:

- ``constants``, ``vocabulary``: the sample's numbers and its wording;
- ``texts``, ``population``, ``plan``, ``messages``: the world (``model``) before rendering;
- ``patterns``: the planted ticket patterns, one module each, registered in ``patterns.PATTERNS``;
- ``zendesk``, ``intercom``, ``freshdesk``: one renderer per helpdesk (``helpdesk`` holds what they share);
- ``side_files``: files beside the exports, one module each (``accounts``, ``releases``, ``help_center``),
  registered in ``SIDE_FILES``;
- ``truth``: planted.json; ``records``, ``verify``: the self-check; ``summary``: the printed report;
- ``build``: wires the stages; ``__main__``: the command line.

A new planted pattern (like ``patterns/enterprise``) is a module under ``patterns/`` with a ``Pattern`` and one
entry in ``PATTERNS``; a new file (like ``releases``) is a module with a ``SideFile`` and one entry in
``SIDE_FILES``. Each brings its own planted.json entries and
checks. A side file that draws from its own ``stream`` leaves the other files as they are; a pattern joins the
ticket plan and so changes the exports.
"""
