"""The code tables of HJ 212-2017 Appendix B and HJ/T 212-2005 Appendix B (protocol.pollutants)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from protocol.pollutants import (
    CODE_2005_TO_2017,
    FACTORS,
    INFO_CODES,
    INFO_PATTERNS,
    PROCESS_PATTERNS,
    SHADOWED_PROCESS_ROWS,
    TABLE_2005,
    UNMAPPED_2005,
    Factor,
    lookup,
    to_2017,
)

# Rows counted in /work/shared/reference/hj212-2017.txt by grepping lines that start with
# a code (`^\s*w[0-9]{5}` and so on) inside each table, then reading the wrapped rows by eye.
WATER_ROWS = 63  # Table B.1
AIR_ROWS = 121  # Table B.2 (a01901, a01902, a34002, a34005 have their names wrapped)
NOISE_ROWS = 12  # Table B.3
PROCESS_WATER_ROWS = 90  # Table B.5, printed rows; e701xx is printed twice
PROCESS_GAS_ROWS = 55  # Table B.7, printed rows; g119xx is printed twice
INFO_ROWS = 38  # Table B.10: 34 codes (I33400 included) and 4 patterns i3331x-i3334x
# Rows of HJ/T 212-2005 Appendix B: 12 noise, S01-S08, B02, 01-37, 99, B01, 33 water.
ROWS_2005 = 93


def test_factor_counts_per_kind() -> None:
    kinds = Counter(factor.kind for factor in FACTORS.values())
    assert kinds == {"water": WATER_ROWS, "air": AIR_ROWS, "noise": NOISE_ROWS}


def test_process_counts_per_kind() -> None:
    kinds = Counter(factor.kind for factor in PROCESS_PATTERNS.values())
    shadowed = Counter(factor.kind for factor in SHADOWED_PROCESS_ROWS)
    assert shadowed == {"process-water": 1, "process-gas": 1}
    assert kinds["process-water"] + shadowed["process-water"] == PROCESS_WATER_ROWS
    assert kinds["process-gas"] + shadowed["process-gas"] == PROCESS_GAS_ROWS
    assert len(PROCESS_PATTERNS) == PROCESS_WATER_ROWS + PROCESS_GAS_ROWS - 2


def test_info_counts() -> None:
    assert len(INFO_CODES) + len(INFO_PATTERNS) == INFO_ROWS
    assert sorted(INFO_PATTERNS) == ["i3331", "i3332", "i3333", "i3334"]
    assert {factor.kind for factor in INFO_CODES.values()} == {"info"}


def test_2005_table_count() -> None:
    assert len(TABLE_2005) == ROWS_2005


@pytest.mark.parametrize(
    ("code", "name_zh", "unit", "cou_unit", "data_type", "code_2005"),
    [
        ("w00000", "污水", "L/s", "m³", "N5.2", "B01"),
        ("w01001", "pH 值", "", "", "N2.2", "001"),
        ("w01018", "化学需氧量", "mg/L", "kg", "N5.1", "011"),
        ("w20089", "铊", "ng/L", "mg", "N4", "041"),
        ("w20111", "总汞", "μg/L", "g", "N3.2", "020"),
        ("w20142", "汞", "μg/L", "g", "N3.3", None),
        ("w21003", "氨氮", "mg/L", "kg", "N4.2", "060"),
        ("w99001", "有机氮", "mg/L", "kg", "N3.1", "061"),
        ("a00000", "废气", "m³/s", "m³", "N6.1", "B02"),
        ("a01013", "烟气压力", "kPa", "", "N5.3", "S08"),
        ("a01017", "烟气动压", "kPa", "", "N5.3", "S04"),
        ("a19001", "氧气含量", "%", "", "N3.1", "S01"),
        ("a21026", "二氧化硫", "mg/m³", "kg", "N5.2", "02"),
        ("a21001", "氨（氨气）", "ng/m³", "g", "N4.3", "10"),
        ("a34013", "烟尘", "mg/m³", "kg", "N4", "01"),
        ("a34011", "降尘", "t/(km²·month)", "", "", None),
        ("a24088", "非甲烷总烃", "mg/m³", "kg", "N7.3", None),
        ("a99051", "二硫化碳", "mg/m³", "kg", "N4.3", "12"),
        ("LA", "A 权声级", "dB", "", "N3.1", None),
        ("Ld", "昼间等效声级", "dB", "", "N3.1", "Ld"),
        ("Ln", "夜间等效声级", "dB", "", "N3.1", "Ln"),
    ],
)
def test_spot_checks_against_the_text(
    code: str, name_zh: str, unit: str, cou_unit: str, data_type: str, code_2005: str | None
) -> None:
    factor = FACTORS[code]
    assert (factor.code, factor.name_zh, factor.unit, factor.cou_unit) == (
        code,
        name_zh,
        unit,
        cou_unit,
    )
    assert (factor.data_type, factor.code_2005) == (data_type, code_2005)


def test_every_factor_has_an_english_name_and_a_symbol_unit() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for factor in (*FACTORS.values(), *PROCESS_PATTERNS.values(), *INFO_CODES.values()):
        assert factor.name_en.isascii(), factor
        assert factor.name_en.strip(), factor
        assert not cjk.search(factor.unit + factor.cou_unit), factor


def test_data_types_are_well_formed() -> None:
    data_type = re.compile(r"N\d+(\.\d+)?|C\d+|YYYYMMDDHHMMSS|")
    rows = (*FACTORS.values(), *PROCESS_PATTERNS.values(), *INFO_CODES.values())
    assert [f.code for f in rows if not data_type.fullmatch(f.data_type)] == []
    # a34011 降尘 and the "user-defined" i13001/2/7/8/9 print no data type
    blank = {f.code for f in rows if not f.data_type}
    assert blank == {"a34011", "i13001", "i13002", "i13007", "i13008", "i13009"}


def test_code_shapes() -> None:
    shapes = {
        "water": r"w\d{5}",
        "air": r"a\d{5}",
        "noise": r"L(A|\d{1,2}|eq|dn|d|n|Mx|Mn)",
        "process-water": r"e[1-9a-b]\d\dxx",
        "process-gas": r"g[1-8]\d\dxx",
        "info": r"i[1-5][1-5]\d{3}",
    }
    for key, factor in (*FACTORS.items(), *INFO_CODES.items()):
        assert key == factor.code
        assert re.fullmatch(shapes[factor.kind], factor.code), factor
    for prefix, factor in PROCESS_PATTERNS.items():
        assert factor.code == prefix + "xx"
        assert re.fullmatch(shapes[factor.kind], factor.code), factor


def test_codes_are_unique_across_tables() -> None:
    codes = [*FACTORS, *(f.code for f in PROCESS_PATTERNS.values()), *INFO_CODES]
    codes += [f.code for f in INFO_PATTERNS.values()]
    printed = WATER_ROWS + AIR_ROWS + NOISE_ROWS + PROCESS_WATER_ROWS + PROCESS_GAS_ROWS + INFO_ROWS
    assert len(codes) == len(set(codes)) == printed - len(SHADOWED_PROCESS_ROWS)


def test_duplicated_process_codes_keep_the_row_that_fits_its_series() -> None:
    assert PROCESS_PATTERNS["e701"].name_zh == "污水提升泵"
    assert PROCESS_PATTERNS["g119"].name_zh == "入口二氧化硫 SO2"
    assert PROCESS_PATTERNS["g127"].name_zh == "出口二氧化硫 SO2"
    assert {(f.code, f.name_zh) for f in SHADOWED_PROCESS_ROWS} == {
        ("e701xx", "加药量"),
        ("g119xx", "脱硫率"),
    }


def test_units_printed_as_ng_per_m3_are_kept() -> None:
    ng = {code for code, factor in FACTORS.items() if factor.unit == "ng/m³"}
    assert ng == {
        "a05002",
        "a20007",
        "a20026",
        "a20044",
        "a20058",
        "a21001",
        "a34001",
        "a34002",
        "a34004",
        "a34005",
    }
    # ... and every one of them pairs with g, where the rest of B.2 pairs mg/m³ with kg
    assert {FACTORS[code].cou_unit for code in ng} == {"g"}
    assert INFO_CODES["i33102"].unit == "°C"  # humidity, as printed


def test_every_2005_code_maps_to_a_known_2017_factor() -> None:
    assert CODE_2005_TO_2017
    for old, new in CODE_2005_TO_2017.items():
        assert new in FACTORS, (old, new)
        assert FACTORS[new].code_2005 == old
    assert len(set(CODE_2005_TO_2017.values())) == len(CODE_2005_TO_2017)


def test_the_2005_appendix_is_covered() -> None:
    assert set(TABLE_2005) >= UNMAPPED_2005
    assert set(TABLE_2005) - UNMAPPED_2005 <= set(CODE_2005_TO_2017)
    # codes only the 2017 原编码 column knows
    assert sorted(set(CODE_2005_TO_2017) - set(TABLE_2005)) == [
        "062",
        "063",
        "064",
        "070",
        "071",
        "072",
        "090",
        "110",
        "350",
        "351",
        "520",
        "540",
        "550",
        "570",
        "571",
    ]


# 2005 name -> 2017 name where the two appendices word a mapped code differently.
RENAMED = {
    "L90": ("累计百分声计 L90", "累计百分声级 L90"),
    "Ld": ("夜间等效声级 Ld", "昼间等效声级"),  # the 2005 day/night swap
    "Ln": ("昼间等效声级 Ln", "夜间等效声级"),
    "Ldn": ("昼夜等效声级 Ldn", "昼夜等效声级"),
    "Leq": ("30 秒等效声级 Leq", "等效声级"),
    "S01": ("O2 含量", "氧气含量"),
    "07": ("氰化物(含氰化氢)", "氰化物"),
    "10": ("氨", "氨（氨气）"),
    "20": ("苯并(a)芘", "苯并[a]芘"),
    "22": ("硝基苯类", "硝基苯"),
    "23": ("氯苯类", "氯苯"),
    "25": ("碳氢化合物(含非甲烷总烃)", "碳氢化合物"),
    "010": ("生化需氧量（BOD5）", "五日生化需氧量"),
    "011": ("化学需氧量（CODcr）", "化学需氧量"),
}


def test_the_2005_names_agree_with_the_2017_names() -> None:
    renamed = {}
    for old, (name_2005, _unit, _type) in TABLE_2005.items():
        if old in CODE_2005_TO_2017:
            name_2017 = FACTORS[to_2017(old)].name_zh
            if name_2005 != name_2017:
                renamed[old] = (name_2005, name_2017)
    assert renamed == RENAMED


def test_2005_units_that_differ_from_2017() -> None:
    # the mapping is of codes only; values need rescaling where units differ
    assert TABLE_2005["020"][1] == "mg/L"
    assert FACTORS[to_2017("020")].unit == "μg/L"
    assert TABLE_2005["S08"][1] == "MPa"
    assert FACTORS[to_2017("S08")].unit == "kPa"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("011", "w01018"),
        ("B01", "w00000"),
        ("B02", "a00000"),
        ("02", "a21026"),
        ("01", "a34013"),
        ("S01", "a19001"),
        ("S04", "a01017"),
        ("S08", "a01013"),
        ("37", "a01010"),
        ("101", "w21011"),
        ("550", "w02003"),
        ("Ld", "Ld"),
    ],
)
def test_to_2017(old: str, new: str) -> None:
    assert to_2017(old) == new


@pytest.mark.parametrize("code", ["w01018", "B03", "16", "025", "e10201", ""])
def test_to_2017_leaves_other_codes_alone(code: str) -> None:
    assert to_2017(code) == code


def test_lookup_resolves_process_patterns() -> None:
    factor = lookup("e10201")
    assert factor is not None
    assert (factor.code, factor.name_zh, factor.unit, factor.kind) == (
        "e102xx",
        "进水口 COD",
        "mg/L",
        "process-water",
    )
    assert lookup("e10299") is factor
    g127 = lookup("g12703")
    assert g127 is not None
    assert (g127.code, g127.unit, g127.kind) == ("g127xx", "mg/m³", "process-gas")


def test_lookup_exact_and_info_codes() -> None:
    assert lookup("w01018") is FACTORS["w01018"]
    assert lookup("Leq") is FACTORS["Leq"]
    assert lookup("i13004") is INFO_CODES["i13004"]
    assert lookup("I33400") is INFO_CODES["i33400"]  # spelled so in Table B.10
    assert lookup("i33312") is INFO_PATTERNS["i3331"]


@pytest.mark.parametrize(
    "code",
    ["e10200", "e1020a", "e102", "e102011", "e99901", "i3331a", "x00000", "011", "", "w01018x"],
)
def test_lookup_rejects_what_no_table_holds(code: str) -> None:
    assert lookup(code) is None


def test_factor_is_frozen() -> None:
    factor: Factor = FACTORS["w01018"]
    with pytest.raises(AttributeError):
        factor.unit = "g/L"  # type: ignore[misc]
