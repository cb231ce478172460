from hypothesis import given, settings
from hypothesis import strategies as st

from textconductor.protocol.charset import CHARS, VOCAB_SIZE, decode, encode, fold, fold_report


def test_charset_is_newline_tab_and_printable_ascii():
    assert VOCAB_SIZE == 97 == len(set(CHARS))
    assert CHARS[:2] == "\n\t" and all(32 <= ord(c) < 127 for c in CHARS[2:])


def test_fold_known_cases():
    assert fold("\u201cHi\u201d \u2018there\u2019") == "\"Hi\" 'there'"
    assert fold("a\u2014b\u2013c") == "a--b-c"
    assert fold("wait\u2026") == "wait..."
    assert fold("caf\u00e9 na\u00efve \u00c6sop \ufb01ne") == "cafe naive AEsop fine"
    assert fold("a\u00a0b") == "a b"
    assert fold("one\r\ntwo\rthree\fpage") == "one\ntwo\nthree\npage"
    assert fold("\u03c0\u2234x\x00\x07") == "x"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fold_is_idempotent_and_inside_the_set(text):
    once = fold(text)
    assert set(once) <= set(CHARS)
    assert fold(once) == once
    assert decode(encode(once)) == once


@given(st.text(alphabet=CHARS))
def test_fold_leaves_text_in_the_set_alone(text):
    assert fold(text) == text


def test_fold_report_counts_changed_and_dropped():
    r = fold_report("ab\u2019c\u03c0")
    assert (r.chars_in, r.changed, r.dropped) == (5, 2, 1)
