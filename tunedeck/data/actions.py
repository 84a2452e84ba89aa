"""The dataset toolkit as workspace actions: validate, stats, convert, split, each reporting progress as events."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tunedeck.events import Publish

if TYPE_CHECKING:
    from tunedeck.data.convert import ConvertResult
    from tunedeck.data.formats import DatasetFormat
    from tunedeck.data.split import SplitResult
    from tunedeck.data.stats import DatasetStats
    from tunedeck.data.validate import ValidationReport
    from tunedeck.workspace import Workspace


class DataActions:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def _publish(self, progress: Publish | None) -> Publish:
        return progress or self.ws.publish

    def validate(
        self,
        path: Path,
        provider: str = "openai",
        model: str | None = None,
        validation_path: Path | None = None,
        fmt: DatasetFormat | str | None = None,
        *,
        encoding: str | None = None,
        epochs: int | None = None,
        max_per_code: int | None = 10_000,
        validation_set: bool = False,
        progress: Publish | None = None,
    ) -> ValidationReport:
        """Every problem with its line, a stable code and a fix; the token statistics and cost estimate."""
        from tunedeck.data.validate import validate_file  # deferred: keeps `tunedeck --help` fast

        return validate_file(
            path,
            provider,
            model,
            validation_path,
            fmt,
            encoding=encoding,
            epochs=epochs,
            settings=self.ws.settings,
            progress=self._publish(progress),
            max_per_code=max_per_code,
            validation_set=validation_set,
        )

    def stats(
        self,
        path: Path,
        provider: str = "openai",
        model: str | None = None,
        fmt: DatasetFormat | str | None = None,
        *,
        encoding: str | None = None,
        epochs: int | None = None,
        progress: Publish | None = None,
    ) -> DatasetStats:
        return self.validate(
            path, provider, model, None, fmt, encoding=encoding, epochs=epochs, progress=progress
        ).stats

    def convert(
        self,
        source: Path,
        target: Path,
        to: DatasetFormat | str,
        fmt: DatasetFormat | str | None = None,
        *,
        overwrite: bool = False,
        progress: Publish | None = None,
    ) -> ConvertResult:
        """Convert to another format; an existing output is replaced only with `overwrite`."""
        from tunedeck.data.convert import convert_file

        return convert_file(source, target, to, fmt, progress=self._publish(progress), overwrite=overwrite)

    def split(
        self,
        source: Path,
        validation: float = 0.1,
        seed: int = 0,
        train_out: Path | None = None,
        validation_out: Path | None = None,
        fmt: DatasetFormat | str | None = None,
        *,
        overwrite: bool = False,
        progress: Publish | None = None,
    ) -> SplitResult:
        """A deterministic split; existing outputs are replaced only with `overwrite`."""
        from tunedeck.data.split import split_file

        return split_file(
            source,
            validation,
            seed,
            train_out,
            validation_out,
            fmt,
            progress=self._publish(progress),
            overwrite=overwrite,
        )
