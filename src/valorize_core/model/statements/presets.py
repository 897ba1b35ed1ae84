"""Named column mappings for common bank exports, chosen by name instead of written by hand.

A mapping given as ``{"preset": "nubank", ...}`` is the preset with the other keys as overrides
(``{"preset": "european", "date_format": "%d/%m/%Y"}``). Each preset's ``header`` is the
export's first line as the bank writes it (case-insensitive), which lets a suggestion
(:mod:`~valorize_core.model.statements.suggestion`) name the preset a file matches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from valorize_core.model.errors import ValidationError
from valorize_core.model.statements.csv import CsvMapping

__all__ = ["PRESETS", "Preset", "mapping_from_options"]


@dataclass(frozen=True, slots=True)
class Preset:
    """A bank's CSV export: what it is, the header that identifies it and its mapping."""

    name: str
    title: str
    header: tuple[str, ...]
    mapping: Mapping[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "nubank",
            "Nubank, conta (CSV do extrato: Data,Valor,Identificador,Descrição)",
            ("data", "valor", "identificador", "descrição"),
            {"date_column": "Data", "amount_column": "Valor", "description_column": "Descrição",
             "external_id_column": "Identificador", "date_format": "%d/%m/%Y", "decimal_style": "point",
             "delimiter": ",", "encoding": "utf-8"},
        ),
        Preset(
            "nubank_cartao",
            "Nubank, cartão de crédito (CSV da fatura: date,title,amount; compras positivas)",
            ("date", "title", "amount"),
            {"date_column": "date", "amount_column": "amount", "description_column": "title",
             "date_format": "%Y-%m-%d", "decimal_style": "point", "delimiter": ",", "encoding": "utf-8",
             "invert_sign": True},
        ),
        Preset(
            "banco_do_brasil",
            "Banco do Brasil, conta corrente (extrato.csv, Windows-1252, linhas de saldo ignoradas)",
            ("data", "lançamento", "detalhes", "n° documento", "valor", "tipo lançamento"),
            {"date_column": "Data", "description_column": "Lançamento", "payee_column": "Detalhes",
             "amount_column": "Valor", "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ",",
             "encoding": "windows-1252",
             "ignore_descriptions": ["Saldo Anterior", "Saldo do dia", "S A L D O", "Saldo"]},
        ),
        Preset(
            "itau",
            "Itaú, conta corrente (extrato exportado em CSV: data;lançamento;valor, sem cabeçalho)",
            (),
            {"date_column": "0", "description_column": "1", "amount_column": "2", "has_header": False,
             "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";", "encoding": "windows-1252",
             "ignore_descriptions": ["SALDO ANTERIOR", "SALDO DO DIA", "SALDO TOTAL DISPONÍVEL DIA", "SALDO FINAL"]},
        ),
        Preset(
            "european",
            "Generic European export: date;description;amount, a header line of any names, "
            "decimal comma, date format and encoding detected",
            (),
            {"date_column": "0", "description_column": "1", "amount_column": "2", "has_header": False,
             "skip_lines": 1, "date_format": "auto", "decimal_style": "comma", "delimiter": ";", "encoding": "auto"},
        ),
    )
}  # fmt: skip


def mapping_from_options(raw: object) -> CsvMapping:
    """The :class:`CsvMapping` of an import's ``mapping`` option: the fields themselves, or a
    ``preset`` name with optional overrides.

    Raises:
        ValidationError: not an object, an unknown preset, or fields a mapping does not take.
    """
    if not isinstance(raw, Mapping):
        raise ValidationError.for_field("mapping", "a CSV import needs a column mapping or a preset")
    fields = dict(raw)
    name = fields.pop("preset", None)
    if name is not None:
        preset = PRESETS.get(name) if isinstance(name, str) else None
        if preset is None:
            raise ValidationError.for_field("mapping.preset", f"must be one of {', '.join(sorted(PRESETS))}")
        fields = {**preset.mapping, **fields}
    try:
        return CsvMapping(**fields)
    except TypeError as exc:
        raise ValidationError.for_field("mapping", f"unknown or missing field: {exc}") from None
