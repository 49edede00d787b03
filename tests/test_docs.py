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
