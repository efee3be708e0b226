"""Run records: each run is a folder written all-or-nothing, listed in a catalogue.

>>> from eralpha.store import RunWriter, Catalogue
>>> with RunWriter(name="binding-imlunestrant", kind="binding", scenario=spec, seed=123) as run:
...     run.add_table("curves", df)
>>> Catalogue().list()
"""

from ._atomic import write_bytes_atomic, write_text_atomic
from ._catalogue import CATALOGUE_NAME, COLUMNS, Catalogue, default_runs_root
from ._manifest import canonical_json, dumps_json, environment, scenario_hash, to_jsonable, utc_now
from ._run import SCORECARD_FIELDS, SCORECARD_KINDS, RunWriter

__all__ = [
    "RunWriter",
    "Catalogue",
    "default_runs_root",
    "scenario_hash",
    "canonical_json",
    "write_text_atomic",
    "write_bytes_atomic",
    "dumps_json",
    "to_jsonable",
    "environment",
    "utc_now",
    "SCORECARD_FIELDS",
    "SCORECARD_KINDS",
    "CATALOGUE_NAME",
    "COLUMNS",
]
