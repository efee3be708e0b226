"""``eralpha version`` (also ``eralpha --version``): the package version, git commit and key libraries."""

from __future__ import annotations

from ._app import FORMAT_OPTION, OutputFormat, app, print_json, version_line


@app.command("version")
def version(format: OutputFormat = FORMAT_OPTION) -> None:
    """Print eralpha's version and git commit (if installed from a checkout), then Python and library versions."""
    from ..store import environment

    env = environment()
    if format is OutputFormat.json:
        print_json({k: env[k] for k in ("eralpha_version", "git_commit", "python", "platform", "versions")})
        return
    print(version_line())
    libraries = ", ".join(f"{name} {v}" for name, v in env["versions"].items() if v and name not in ("python", "eralpha"))
    print(f"Python {env['python']}; {libraries}")
