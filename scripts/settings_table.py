"""Print the README's configuration table from the settings catalogue (ticket_intel/settings.py).

Usage: python scripts/settings_table.py   (paste over the table under "## Configuration")
"""

from ticket_intel import settings


def main() -> None:
    print("| variable | `ticket_intel.yaml` key | default | meaning |")
    print("|---|---|---|---|")
    for s in settings.SETTINGS:
        default = f"`{s.default}`" if s.default else "*(empty)*"
        extra = " (read when definitions load)" if s.load_time else ""
        print(f"| `{s.env}` | `{s.yaml_key}` | {default} | {s.meaning}{extra} |")


if __name__ == "__main__":
    main()
