"""Every command is in /help and in the README; the README's commands are the ones CI runs."""

import re
from pathlib import Path

from neuroladder.bot.service import Service

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_in_help_and_readme(tmp_path):
    from neuroladder.bot.storage.store import Store

    service = Service(Store(tmp_path / "d.db"))
    [help_reply] = service.handle("test", "docs", "/help")
    readme = (ROOT / "README.md").read_text()
    for command, _ in service.commands():
        assert f"/{command}" in help_reply.plain(), command
        assert f"`/{command}" in readme, command


def test_readme_opens_with_the_two_setup_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    assert "bash scripts/dev run" in first_block and "bash scripts/dev test" in first_block
    assert "bash scripts/dev test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_map_names_every_module_once():
    """A newcomer finds every module in the README's map, one line each, under its real path."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Where things are")
    section = readme[start : readme.index("\n## ", start + 1)]
    modules = sorted(
        p.relative_to(ROOT).as_posix()
        for top in ("bot", "rules")
        for p in (ROOT / top).rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    )
    lines = [line for line in section.splitlines() if line.startswith("- `")]
    named = [re.match(r"- `([^`]+)`", line).group(1) for line in lines]
    assert sorted(n for n in named if n.endswith(".py")) == modules
    for package in {str(Path(m).parent) for m in modules}:
        assert f"`{package}/`" in section, f"{package}/ has no line saying what the layer is"
