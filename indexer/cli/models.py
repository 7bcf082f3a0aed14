"""The face models: models list, models fetch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from indexer.cli.base import JsonOption, command, models_app, print_json


@models_app.command("list")
@command
def models_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """The face embedding models indexer can use; * marks the configured one. The state of each one's ONNX
    file (and of MTCNN's) is current, missing, stale or damaged: `models fetch` makes it."""
    from indexer.vision.engines.onnx_files import CASCADE_NETWORKS, converter_version, facenet_network, state
    from indexer.vision.weights import MODELS, is_present

    config = ctx.obj.config()
    models_dir = config.embedding.models_dir
    version = converter_version()
    rows = [
        {
            "name": spec.name,
            "configured": spec.name == config.embedding.model,
            "dimensions": spec.dimensions,
            "trained_on": spec.trained_on,
            "present": is_present(spec, models_dir),
            "onnx": state(facenet_network(spec), models_dir, version),
            "source": spec.source.describe(),
        }
        for spec in MODELS.values()
    ]
    detection = sorted({state(network, models_dir, version) for network in CASCADE_NETWORKS})
    if json_output:
        print_json(rows)
        return
    typer.echo(f"models folder: {models_dir}")
    typer.echo(f"  mtcnn (detection)                     onnx {'/'.join(detection)}")
    for row in rows:
        mark = "*" if row["configured"] else " "
        weights = "present" if row["present"] else "missing"
        typer.echo(f"{mark} {row['name']:<31} {row['dimensions']:>3}-d  {weights:<7}  onnx {row['onnx']:<7}  "
                   f"{row['trained_on']}; from {row['source']}")


@models_app.command("fetch")
@command
def models_fetch(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Which model (default: the configured one).")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="A weights file you already have, or the registry archive that holds them."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Put a model's weights into the models folder, checked by sha256, and make the ONNX files of the
    ONNX engine from them, and MTCNN's (again when the weights or the way they are built changed). Already there: just verified."""
    from indexer.config import downloads_dir
    from indexer.vision.engines.make import make_onnx_files
    from indexer.vision.weights import fetch_weights, get_model, verified_weights

    config = ctx.obj.config()
    spec = get_model(model or config.embedding.model)
    models_dir = config.embedding.models_dir
    if from_file is not None:
        path = fetch_weights(spec, models_dir, downloads_dir(), from_file=from_file)
    else:
        path = verified_weights(spec, models_dir, downloads_dir())
    onnx_files = make_onnx_files(spec, path, models_dir, downloads_dir())
    if json_output:
        onnx = [{"path": str(file), "state": done} for file, done in onnx_files]
        print_json({"model": spec.name, "path": str(path), "sha256": spec.sha256, "onnx": onnx})
        return
    typer.echo(f"{spec.name}: {path} (sha256 {spec.sha256[:12]}…, verified)")
    for file, done in onnx_files:
        typer.echo(f"  onnx: {file} ({'made now' if done == 'made' else 'verified'})")
