"""Hostile OFX files: ofxtools' backtracking patterns never see a shape they take super-linear
time on; such a file is refused (the import fails with the reason) in milliseconds."""

from __future__ import annotations

import time

import pytest

from valorize_adapters.statements.ofx import OfxStatementParser
from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Currency

V1 = (
    b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
    b"COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)

HOSTILE = {
    "XML declaration with a run of blanks": b"<?xml" + b" " * 2_000 + b"x\n<OFX></OFX>",
    "OFX 1 header with a run of blanks": b"OFXHEADER:100\nDATA:" + b" " * 200_000 + b"\n<OFX></OFX>",
    "a run of carriage returns (one line to ofxtools)": b"OFXHEADER:100" + b"\r" * 200_000 + b"<OFX></OFX>",
    "unterminated CDATA sections on one line": V1 + b"<OFX>" + b"<A><![CDATA[x" * 200_000,
}


@pytest.mark.parametrize("content", HOSTILE.values(), ids=HOSTILE.keys())
def test_files_that_make_ofxtools_backtrack_are_refused_in_milliseconds(content: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="not a readable OFX file"):
        OfxStatementParser().parse(content, Currency("BRL", 2), {})
    assert time.perf_counter() - started < 0.5


def test_a_closed_cdata_section_and_ordinary_blanks_still_parse() -> None:
    content = V1.replace(b"\n", b"\r\n") + (
        b"<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261105"
        b"<LANGUAGE>POR</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0"
        b"<SEVERITY>INFO</STATUS><STMTRS><CURDEF>BRL<BANKACCTFROM><BANKID>1<ACCTID>2<ACCTTYPE>CHECKING"
        b"</BANKACCTFROM><BANKTRANLIST><DTSTART>20261101<DTEND>20261105<STMTTRN><TRNTYPE>DEBIT"
        b"<DTPOSTED>20261102<TRNAMT>-12.34<FITID>F1<NAME>PADARIA        CENTRAL<MEMO><![CDATA[pao & cafe]]>"
        b"</STMTTRN></BANKTRANLIST><LEDGERBAL><BALAMT>1.00<DTASOF>20261105</LEDGERBAL></STMTRS>"
        b"</STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    parsed = OfxStatementParser().parse(content, Currency("BRL", 2), {})
    assert [(r.description, str(r.amount.minor)) for r in parsed.rows] == [("PADARIA CENTRAL pao & cafe", "-1234")]
