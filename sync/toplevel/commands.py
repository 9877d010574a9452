"""``secnode toplevel``: the reference top-level node, for tests, demos and rehearsals."""

from __future__ import annotations

import typer

from foundation.config import get_settings

app = typer.Typer(help="The reference top-level node (tests, demos, rehearsals)", no_args_is_help=True)


@app.command("serve")
def toplevel_serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8500)) -> None:
    """Serve the reference top-level node (its own storage: SECNODE_TOPLEVEL_DATABASE_URL)."""
    # deferred to keep --help fast: the HTTP server, and the application (FastAPI)
    import uvicorn

    from sync.toplevel.app import create_toplevel_app

    settings = get_settings()
    uvicorn.run(
        create_toplevel_app(
            settings.toplevel_database_url,
            auto_approve=settings.toplevel_auto_approve,
            root_key_file=settings.toplevel_root_key_file,
            root_key_alg=settings.toplevel_root_key_alg,
        ),
        host=host,
        port=port,
        log_level="warning",
    )
