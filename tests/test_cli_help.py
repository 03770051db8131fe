"""Every option of every ``prelib`` command says what it does (``--help`` is documentation)."""

from __future__ import annotations

import argparse

import pytest

from prelib.cli import SUBCOMMANDS, build_parser


def _walk(parser: argparse.ArgumentParser, path: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            yield path, action


@pytest.mark.parametrize("command", list(SUBCOMMANDS))
def test_every_option_has_help_text(command):
    options = list(_walk(build_parser(command), "prelib"))
    assert len(options) > 2  # the command's own options were loaded
    missing = [
        f"{path} {'/'.join(action.option_strings) or action.dest}"
        for path, action in options
        if not action.help
    ]
    assert missing == []


def test_downscale_profile_is_validated(capsys):
    with pytest.raises(SystemExit):
        build_parser("downscale").parse_args(["downscale", "train", "--profile", "huge"])
    assert "invalid choice: 'huge'" in capsys.readouterr().err
