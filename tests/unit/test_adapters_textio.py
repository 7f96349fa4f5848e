"""Decoding, CSV records and value parsers shared by every input (kpi.adapters.textio)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.adapters.textio import (
    detect_qualtrics,
    normalise_identifier,
    normalise_identifier_series,
    parse_bool,
    parse_csv_text,
    parse_date,
    parse_int,
    parse_month,
    parse_number,
    parse_timestamp,
    read_csv_records,
    read_text,
    skip_extra_header_rows,
    with_parsed_int,
    with_parsed_timestamp,
)
from kpi.errors import InputError

D = dt.date
T = dt.datetime


# ------------------------------------------------------------------------------------ read_text


def test_read_text_strips_bom_and_counts_nothing(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert read_text(p) == ("a,b\n1,2\n", 0)


def test_read_text_replaces_invalid_utf8_and_counts(tmp_path):
    p = tmp_path / "a.csv"
    # two latin-1 bytes (ü, é) and one legitimate U+FFFD that must not be counted
    p.write_bytes("name\nJ\xfcrgen Ren\xe9\n".encode("latin-1") + "x\ufffd\n".encode("utf-8"))
    text, replaced = read_text(p, "usage/a.csv")
    assert replaced == 2
    assert text == "name\nJ\ufffdrgen Ren\ufffd\nx\ufffd\n"


def test_read_text_decodes_utf16_with_bom(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes("a;b\n1;2\n".encode("utf-16"))
    assert read_text(p) == ("a;b\n1;2\n", 0)


@pytest.mark.parametrize("content", [b"PK\x03\x04\x14\x00\x00\x00\x08\x00", bytes(range(256)) * 4])
def test_binary_file_is_refused_with_one_line(tmp_path, content):
    p = tmp_path / "x.csv"
    p.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_text(p, "usage/x.csv")
    assert str(err.value) == "usage/x.csv: not a text file (binary content); export it as CSV"


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n  \r\n"])
def test_empty_file_is_refused(tmp_path, content):
    p = tmp_path / "e.csv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=r"^hr/e.csv: the file is empty"):
        read_text(p, "hr/e.csv")


# ------------------------------------------------------------------------------------ CSV records


def _rows(table):
    return [(n, fields) for n, fields, _ in table.rows]


def test_comma_crlf_no_final_newline_and_trailing_blank_lines():
    t = parse_csv_text(" a , b ,c\r\n1,2,3\r\n4, 5 ,6", "f.csv")
    assert t.header == ["a", "b", "c"] and t.delimiter == ","
    assert _rows(t) == [(1, ["1", "2", "3"]), (2, ["4", "5", "6"])]
    t = parse_csv_text("a,b\n1,2\n\n\n   \n", "f.csv")
    assert _rows(t) == [(1, ["1", "2"])] and t.rows_read == 1


def test_semicolon_and_decimal_comma_detected():
    t = parse_csv_text("day;amount\n2025-01-01;1,5\n2025-01-02;2,25\n", "f.csv", decimal_fallback=".")
    assert (t.delimiter, t.decimal) == (";", ",")
    t = parse_csv_text("day;amount\n2025-01-01;1.5\n", "f.csv", decimal_fallback=",")
    assert (t.delimiter, t.decimal) == (";", ".")
    t = parse_csv_text("day;amount\n2025-01-01;3\n", "f.csv", decimal_fallback=",")
    assert t.decimal == ","  # nothing to go by: the config's fallback
    t = parse_csv_text("a\tb\n1\t2\n", "f.csv")
    assert t.delimiter == "\t" and _rows(t) == [(1, ["1", "2"])]


def test_excel_sep_hint_line():
    t = parse_csv_text("sep=;\na;b\n1;2\n", "f.csv")
    assert t.header == ["a", "b"] and _rows(t) == [(1, ["1", "2"])]


def test_quoted_fields_escaped_quotes_and_embedded_newlines():
    text = 'a,b,c\n"x, y",5,"6 ""q"""\n"multi\nline",7,8\n9,10,11\n'
    t = parse_csv_text(text, "f.csv")
    assert _rows(t) == [
        (1, ["x, y", "5", '6 "q"']),
        (2, ["multi\nline", "7", "8"]),  # a record spanning lines keeps the number of its first line
        (4, ["9", "10", "11"]),
    ]
    assert t.malformed == [] and t.rows_read == 3
    assert t.raw_text(2) == '"multi\nline",7,8'


def test_stray_quote_does_not_swallow_following_lines():
    text = 'a,b,c\n1,2,3\n4,"open,6\n7,8,9\n10,11,12\n13,1"4,15\n16,17,18\n'
    t = parse_csv_text(text, "f.csv")
    assert _rows(t) == [
        (1, ["1", "2", "3"]),
        (2, None),
        (3, ["7", "8", "9"]),
        (4, ["10", "11", "12"]),
        (5, None),
        (6, ["16", "17", "18"]),
    ]
    assert t.malformed == [(2, '4,"open,6'), (5, '13,1"4,15')]


def test_wrong_field_counts_and_broken_quoting_are_malformed():
    text = 'a,b,c\n1,2\n1,2,3,4\n1,2,3,,\n"a"x,2,3\n1,"2" ,3\n'
    t = parse_csv_text(text, "f.csv")
    assert _rows(t) == [(1, None), (2, None), (3, ["1", "2", "3"]), (4, None), (5, None)]


def test_trailing_empty_header_columns_are_dropped():
    t = parse_csv_text("a;b;;\n1;2;;\n3;4\n5;6;x;\n", "f.csv")
    assert t.header == ["a", "b"]
    assert _rows(t) == [(1, ["1", "2"]), (2, ["3", "4"]), (3, None)]


def test_read_csv_records_from_file_counts_replacements(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes("id,name\n1,J\xfcrgen\n".encode("latin-1"))
    t = read_csv_records(p, rel_name="surveys/s.csv")
    assert t.name == "surveys/s.csv" and t.chars_replaced == 1
    assert _rows(t) == [(1, ["1", "J\ufffdrgen"])]


def test_many_quoted_rows_take_the_vectorised_path():
    lines = "".join(f'"2025-01-{1 + i % 28:02d}","user {i}","a, b"\n' for i in range(500))
    t = parse_csv_text("d,u,x\n" + lines, "f.csv")
    assert t.rows_read == 500 and t.malformed == []
    assert _rows(t)[499] == (500, ["2025-01-24", "user 499", "a, b"])


def test_qualtrics_detection_and_skip():
    text = (
        "StartDate,ResponseId,Q1,Q2\n"
        'Start Date,Response ID,"I am satisfied,\nreally",I get support\n'
        '"{""ImportId"":""startDate""}","{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2""}"\n'
        "2025-03-01,R_1,4,5\n"
        "2025-03-02,R_2,3\n"
    )
    t = parse_csv_text(text, "surveys/q.csv")
    first = [fields for _, fields, _ in t.rows[:2]]
    assert detect_qualtrics(t.header, first)
    assert not detect_qualtrics(["a", "b"], [["1", "2"], ["3", "4"]])
    data, dropped = skip_extra_header_rows(t, 2)
    assert dropped[0] == ["Start Date", "Response ID", "I am satisfied,\nreally", "I get support"]
    assert _rows(data) == [(1, ["2025-03-01", "R_1", "4", "5"]), (2, None)]
    assert data.malformed == [(2, "2025-03-02,R_2,3")] and data.rows_read == 2


# ------------------------------------------------------------------------------------ values


def test_parse_date():
    assert parse_date("2025-03-01") == (D(2025, 3, 1), True)
    assert parse_date(" 2025-03-01T10:00:00Z ") == (D(2025, 3, 1), True)
    assert parse_date("2025-03-01 00:00:00") == (D(2025, 3, 1), True)
    for missing in ("", " ", "null", "None", "NULL", None):
        assert parse_date(missing) == (None, True)
    for bad in ("2025-02-30", "31.12.2025", "2025/03/01", "20250301", "2025-03-01 foo", "soon"):
        assert parse_date(bad) == (None, False)
    assert parse_month("2025-03") == (D(2025, 3, 1), True)
    assert parse_month("2025-03-17") == (D(2025, 3, 1), True)
    assert parse_month("2025-13") == (None, False)


def test_parse_timestamp_converts_offsets_to_company_time():
    tz = "Europe/Berlin"
    assert parse_timestamp("2025-03-31T23:30:00Z", tz) == (T(2025, 4, 1, 1, 30), True)  # CEST
    assert parse_timestamp("2025-01-15T23:30:00+00:00", tz) == (T(2025, 1, 16, 0, 30), True)  # CET
    assert parse_timestamp("2025-07-01T06:00:00-0400", tz) == (T(2025, 7, 1, 12, 0), True)
    assert parse_timestamp("2025-03-31 23:30", tz) == (T(2025, 3, 31, 23, 30), True)  # local already
    assert parse_timestamp("2025-03-31T08:00:00.123456789", tz) == (T(2025, 3, 31, 8, 0, 0, 123456), True)
    assert parse_timestamp("2025-03-31", tz) == (D(2025, 3, 31), True)
    assert parse_timestamp("", tz) == (None, True)
    for bad in ("2025-03-31T24:00:00", "2025-02-29T10:00:00", "2025-03-31T10:00:00+25:00", "noon"):
        assert parse_timestamp(bad, tz) == (None, False)


def test_parse_numbers_ints_bools():
    assert parse_number("1.234,50", ",") == (1234.5, True)
    assert parse_number("1234,5", ",") == (1234.5, True)
    assert parse_number("1.5", ",") == (1.5, True)  # unambiguous point decimal
    assert parse_number("1,234.5", ".") == (1234.5, True)
    assert parse_number("-12.5") == (-12.5, True)
    assert parse_number("€ 99,90", ",") == (99.9, True)
    assert parse_number("") == (None, True)
    assert parse_number("abc") == (None, False)
    assert parse_number("1,5", ".") == (None, False)
    assert parse_int("42") == (42, True)
    assert parse_int("3,0", ",") == (3, True)
    assert parse_int("3.0") == (3, True)
    assert parse_int("3.5") == (None, False)
    assert parse_int("-2") == (-2, True)
    assert parse_int(True) == (None, False)
    assert parse_int(7.0) == (7, True)
    assert parse_int("") == (None, True)
    # int64's edges; beyond them, even past Python's 4,300-digit limit on int(), invalid (no error)
    assert parse_int("9223372036854775807") == (9223372036854775807, True)
    assert parse_int("-0009223372036854775807") == (-9223372036854775807, True)
    assert parse_int("9223372036854775808") == (None, False)
    assert parse_int("9" * 5000) == (None, False) and parse_int("-" + "1" * 5000 + ".0") == (None, False)
    for text, value in [("true", True), ("FALSE", False), ("1", True), ("0", False), ("Yes", True), ("no", False)]:
        assert parse_bool(text) == (value, True)
    assert parse_bool("maybe") == (None, False)


def test_identifier_normalisation_vectorised_equals_scalar():
    values = [" Alice@Example.COM ", "STRAUSS", "Straße", "ÉLODIE", "octo-Cat", "", "\u00a0bob\u00a0"]
    got = normalise_identifier_series(pl.Series(values)).to_list()
    assert got == [normalise_identifier(v) for v in values]
    assert got[2] == "strasse"


_ts_text = st.one_of(
    st.builds(
        lambda d, h, m, s, frac, off, sep: f"{d.isoformat()}{sep}{h:02d}:{m:02d}:{s:02d}{frac}{off}",
        st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 12, 31)),
        st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
        st.sampled_from(["", ".5", ".123456", ".1234567"]),
        st.sampled_from(["", "Z", "+01:00", "-04:00", "+0530", "+02", "+25:00"]),
        st.sampled_from(["T", " "]),
    ),
    st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 12, 31)).map(lambda d: d.isoformat()),
    st.sampled_from(["", "null", "2025-02-30", "2025-13-01T10:00:00", "x", "2025-03-01T10:00", "2025-03-01T9:00:00"]),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ts_text, min_size=1, max_size=20), st.sampled_from(["Europe/Berlin", "UTC", "America/New_York"]))
def test_vectorised_timestamp_parser_agrees_with_scalar(values, tz):
    frame = with_parsed_timestamp(pl.DataFrame({"t": values}, schema={"t": pl.String}), "t", tz)
    for text, day, time, ok in frame.select("t", "_ts_day", "_ts_time", "_ts_ok").iter_rows():
        value, scalar_ok = parse_timestamp(text, tz)
        assert ok == scalar_ok, text
        if isinstance(value, dt.datetime):
            assert (day, time) == (value.date(), value), text
        else:
            assert (day, time) == (value, None), text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.integers(-10**6, 10**6).map(str), st.text(max_size=6),
                       st.sampled_from(["3,0", "3.0", " 4 ", "+5", "null", ""])), min_size=1, max_size=20),
    st.sampled_from([".", ","]),
)
def test_vectorised_int_parser_agrees_with_scalar(values, decimal):
    frame = with_parsed_int(pl.DataFrame({"n": values}, schema={"n": pl.String}), "n", decimal, prefix="_n")
    for text, value, ok in frame.select("n", "_n_value", "_n_ok").iter_rows():
        assert (value, ok) == parse_int(text, decimal), text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=10), min_size=1, max_size=20))
def test_vectorised_identifier_normalisation_agrees_with_scalar(values):
    got = normalise_identifier_series(pl.Series(values, dtype=pl.String)).to_list()
    assert got == [normalise_identifier(v) for v in values]
