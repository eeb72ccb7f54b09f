"""``toneflow schema``: the JSON Schema of flow files, for editors and other tools."""

from __future__ import annotations

import json

import click

from schemas.json_schema import flow_json_schema
from toneflow.config import load_config


@click.command(help="Print the JSON Schema (draft 2020-12) of flow files.")
def schema() -> None:
    max_digits = load_config()["MAX_DIGITS"]
    click.echo(json.dumps(flow_json_schema(max_digits=max_digits), indent=2, ensure_ascii=False))
