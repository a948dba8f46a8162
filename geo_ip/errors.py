"""Exception hierarchy of geo_ip.

Every error carries a message in Brazilian Portuguese that a municipal engineer
can act on: it names the file and, where it applies, the row and field at fault.
The CLI prints ``str(error)`` and exits with :attr:`GeoIPError.exit_code`.
"""

from __future__ import annotations

from pathlib import Path


class GeoIPError(Exception):
    """Base class of every error raised on purpose by geo_ip.

    Parameters
    ----------
    message : str
        Human-readable explanation, in Portuguese.
    path : str or Path, optional
        The file at fault, prefixed to the message.
    row : int, optional
        The 1-based row (line) at fault.
    field : str, optional
        The field (column or key) at fault.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.row = row
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(f"arquivo '{self.path}'")
        if self.row is not None:
            where.append(f"linha {self.row}")
        if self.field is not None:
            where.append(f"campo '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class RulesError(GeoIPError):
    """The municipality rules file is missing, malformed or inconsistent."""

    exit_code = 2


class CatalogError(GeoIPError):
    """A layer catalog file (``layers/*.toml``) is missing or malformed."""

    exit_code = 2


class InputFileError(GeoIPError):
    """An input file is missing, empty, truncated or of the wrong kind."""

    exit_code = 3


class OsmError(InputFileError):
    """An OpenStreetMap input cannot be used (unreadable, no drivable roads...)."""


class GridError(InputFileError):
    """An existing-grid source cannot be used (no geometry, unknown CRS...)."""


class DemError(InputFileError):
    """An elevation model cannot be used (unreadable, does not cover the area)."""


class RequestsFileError(InputFileError):
    """The requests spreadsheet (``pedidos``) cannot be read (format, encoding, header)."""


class PlaceNotFoundError(OsmError):
    """A place name given to ``--lugar`` was not found by the geocoder."""


class TerritoryError(GeoIPError):
    """A territory GeoPackage is missing a layer or is otherwise unusable."""

    exit_code = 4


class BudgetError(GeoIPError):
    """The budget given for the selection is not usable (negative or not a number)."""

    exit_code = 2
