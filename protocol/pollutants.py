"""Factor (pollutant), process and field-information codes of HJ 212, as data.

Sources, transcribed row by row from the text of the standards:

* HJ 212-2017 Appendix B (normative): Table B.1 water factors (citing HJ 525-2009), B.2
  gas/air factors (citing HJ 524-2009), B.3 noise (GB 3096-2008), B.4-B.7 process (工况)
  treatment types and factor patterns, B.8-B.10 field-side information (``i``) codes.
* HJ/T 212-2005 Appendix B ("常用部分污染物相关参数编码表"): the 2- and 3-character codes,
  the S01-S08 flue-gas parameters, B01/B02/B03 and the noise codes.

Units are given as symbols ("mg/L" for 毫克/升) through ``_UNIT``; a row keeps the unit the
2017 table prints even where that looks wrong. Dimensionless (无量纲) and absent ("--")
units are both ``""``. ``code_2005`` is the 2017 原编码 column.

Misprints kept as printed (marked ``# misprint?`` on their rows):

* ng/m³ (纳克/立方米) for a05002 CH4, a20007/a20026/a20044/a20058 (As, Cd, Pb, Hg),
  a21001 NH3 and a34001/a34002/a34004/a34005 (TSP, PM10, PM2.5, PM1.0). Every other row
  pairs mg→kg, µg→g and ng→mg, but these pair ng/m³ with g, which points at µg/m³.
* a34011 降尘 has no -Cou unit and no data type.
* e303xx 鼓风量 (blower air volume) in mg/L.
* i33102 监测站房湿度 (humidity) in °C.
* Duplicated codes: ``e701xx`` is both 污水提升泵 and 加药量, ``g119xx`` both 脱硫率 and
  入口二氧化硫. ``PROCESS_PATTERNS`` keeps the row that fits its numbered series
  (e701..e710 lift pump..., g119..g126 inlet / g127..g134 outlet); the other row is in
  ``SHADOWED_PROCESS_ROWS``. Some parsers remap them to e711xx and g200xx; the standard
  does not, so neither do we.
* ``I33400`` (capital I) in Table B.10, against §6.4.2 ("1 位小写字母 'i'"): stored as
  ``i33400``; ``lookup`` accepts the printed spelling too.
* Names as printed: 苯并[α]芘 (w25043, α for a), 搅拌器转态 (e412xx, 转态 for 状态),
  吸收塔除物器电流 (g113xx, 除物器 for 除雾器), 出水口 PH (e205xx).
* HJ/T 212-2005 swaps the names of Ld (printed 夜间, night) and Ln (printed 昼间, day);
  GB 3096 and HJ 212-2017 have Ld = day. Codes are kept: Ld→Ld, Ln→Ln.

Names spanning two lines of the PDF are rejoined (a space only between CJK and Latin, as in
the single-line rows). ``to_2017`` maps codes, not values: 2005 gave water metals in mg/L
where 2017 uses µg/L or ng/L, and pressures in MPa where 2017 uses kPa (``TABLE_2005``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Factor:
    """One code-table row: default units and data type (HJ 212-2017 Appendix B)."""

    code: str  # as printed; process/info patterns keep their "xx"/"x"
    name_zh: str
    name_en: str
    unit: str  # default concentration (or value) unit
    cou_unit: str  # default emission-amount unit of ``-Cou``; "" when none
    data_type: str  # e.g. "N5.1" (HJ 212-2017 §6.3.3.2.2)
    code_2005: str | None
    kind: str  # water | air | noise | process-water | process-gas | info


# Printed unit → symbol. A unit missing here fails at import, so no row slips through.
_UNIT: Final = {
    "": "",
    "--": "",
    "无量纲": "",
    "%": "%",
    "升/秒": "L/s",
    "立方米": "m³",
    "毫克/升": "mg/L",
    "微克/升": "μg/L",
    "纳克/升": "ng/L",
    "千克": "kg",
    "克": "g",
    "毫克": "mg",
    "[色]度": "colour unit",
    "摄氏度": "°C",
    "微西[门子]/厘米": "μS/cm",
    "个/升": "count/L",
    "贝可[勒尔]/升": "Bq/L",
    "立方米/秒": "m³/s",
    "立方米/小时": "m³/h",
    "千帕": "kPa",
    "帕": "Pa",
    "米/秒": "m/s",
    "[角]度": "°",
    "平方米": "m²",
    "毫克/立方米": "mg/m³",
    "纳克/立方米": "ng/m³",
    "千克/立方米": "kg/m³",
    "吨/平方千米•月": "t/(km²·month)",
    "分贝": "dB",
    "安 [培]": "A",
    "米": "m",
    "毫伏[特]": "mV",
    "转/分钟": "r/min",
    "分钟": "min",
    "秒": "s",
    "伏[特]": "V",
    "千瓦[特][小]时": "kW·h",
    "年月日时分秒": "",  # i13006: a format (data type YYYYMMDDHHMMSS), not a unit
}

# code, 中文名称, English, unit (浓度), unit (排放量), data type, 原编码 ("" when "--"/blank)
_Row = tuple[str, str, str, str, str, str, str]

# fmt: off
# Table B.1 水监测因子编码表 (63 rows).
_WATER: Final[tuple[_Row, ...]] = (
    ("w00000", "污水", "waste water (flow)", "升/秒", "立方米", "N5.2", "B01"),
    ("w01001", "pH 值", "pH", "无量纲", "", "N2.2", "001"),
    ("w01002", "色度", "colour", "[色]度", "", "N3.2", "002"),
    ("w01006", "溶解性总固体", "total dissolved solids", "毫克/升", "千克", "N4", ""),
    ("w01009", "溶解氧", "dissolved oxygen", "毫克/升", "", "N3.1", ""),
    ("w01010", "水温", "water temperature", "摄氏度", "", "N3.1", ""),
    ("w01012", "悬浮物", "suspended solids", "毫克/升", "千克", "N4", "003"),
    ("w01014", "电导率", "conductivity", "微西[门子]/厘米", "", "N3.1", ""),
    ("w01017", "五日生化需氧量", "five-day biochemical oxygen demand (BOD5)", "毫克/升", "千克", "N5.1", "010"),
    ("w01018", "化学需氧量", "chemical oxygen demand (COD)", "毫克/升", "千克", "N5.1", "011"),
    ("w01019", "高锰酸盐指数", "permanganate index", "毫克/升", "千克", "N3.1", ""),
    ("w01020", "总有机碳", "total organic carbon", "毫克/升", "千克", "N3.1", "015"),
    ("w02003", "粪大肠菌群", "faecal coliforms", "个/升", "", "N9", "550"),
    ("w02006", "细菌总数", "total bacteria count", "个/升", "", "N9", ""),
    ("w03001", "总 α 放射性", "gross alpha radioactivity", "贝可[勒尔]/升", "", "N3.1", "570"),
    ("w03002", "总 β 放射性", "gross beta radioactivity", "贝可[勒尔]/升", "", "N3.1", "571"),
    ("w19001", "表面活性剂", "surfactants", "毫克/升", "千克", "N3.2", ""),
    ("w19002", "阴离子表面活性剂", "anionic surfactants", "毫克/升", "千克", "N3.2", "520"),
    ("w20012", "钡", "barium", "毫克/升", "千克", "N3.3", "039"),
    ("w20023", "硼", "boron", "毫克/升", "千克", "N3.3", "037"),
    ("w20038", "钴", "cobalt", "毫克/升", "千克", "N3.4", "040"),
    ("w20061", "钼", "molybdenum", "毫克/升", "千克", "N3.4", "038"),
    ("w20089", "铊", "thallium", "纳克/升", "毫克", "N4", "041"),
    ("w20092", "锡", "tin", "毫克/升", "千克", "N3.1", "036"),
    ("w20111", "总汞", "total mercury", "微克/升", "克", "N3.2", "020"),
    ("w20113", "烷基汞", "alkyl mercury", "纳克/升", "毫克", "N4", "021"),
    ("w20115", "总镉", "total cadmium", "微克/升", "克", "N3.1", "022"),
    ("w20116", "总铬", "total chromium", "毫克/升", "千克", "N3.3", "023"),
    ("w20117", "六价铬", "hexavalent chromium", "微克/升", "克", "N2.3", "024"),
    ("w20119", "总砷", "total arsenic", "微克/升", "克", "N2.3", "026"),
    ("w20120", "总铅", "total lead", "微克/升", "克", "N4", "027"),
    ("w20121", "总镍", "total nickel", "毫克/升", "千克", "N3.2", "028"),
    ("w20122", "总铜", "total copper", "毫克/升", "千克", "N3.2", "029"),
    ("w20123", "总锌", "total zinc", "毫克/升", "千克", "N3.3", "030"),
    ("w20124", "总锰", "total manganese", "毫克/升", "千克", "N3.3", "031"),
    ("w20125", "总铁", "total iron", "毫克/升", "千克", "N3.3", "032"),
    ("w20126", "总银", "total silver", "毫克/升", "千克", "N3.3", "033"),
    ("w20127", "总铍", "total beryllium", "微克/升", "克", "N3.3", "034"),
    ("w20128", "总硒", "total selenium", "微克/升", "克", "N4.2", "035"),
    # w20138-w20144: the 原编码 cell is blank, not "--"
    ("w20138", "铜", "copper", "毫克/升", "千克", "N3.3", ""),
    ("w20139", "锌", "zinc", "毫克/升", "千克", "N3.3", ""),
    ("w20140", "硒", "selenium", "毫克/升", "千克", "N3.3", ""),
    ("w20141", "砷", "arsenic", "毫克/升", "千克", "N3.3", ""),
    ("w20142", "汞", "mercury", "微克/升", "克", "N3.3", ""),
    ("w20143", "镉", "cadmium", "微克/升", "克", "N3.3", ""),
    ("w20144", "铅", "lead", "毫克/升", "千克", "N3.3", ""),
    ("w21001", "总氮", "total nitrogen", "毫克/升", "千克", "N4.2", "065"),
    ("w21003", "氨氮", "ammonia nitrogen", "毫克/升", "千克", "N4.2", "060"),
    ("w21004", "凯氏氮", "Kjeldahl nitrogen", "毫克/升", "千克", "N3.1", "062"),
    ("w21006", "亚硝酸盐", "nitrite", "毫克/升", "千克", "N2.3", "063"),
    ("w21007", "硝酸盐", "nitrate", "毫克/升", "千克", "N2.3", "064"),
    ("w21011", "总磷", "total phosphorus", "毫克/升", "千克", "N3.2", "101"),
    ("w21016", "氰化物", "cyanide", "毫克/升", "千克", "N3.3", "070"),
    ("w21017", "氟化物", "fluoride", "毫克/升", "千克", "N4.2", "072"),
    ("w21019", "硫化物", "sulfide", "毫克/升", "千克", "N3.3", "071"),
    ("w21022", "氯化物", "chloride", "毫克/升", "千克", "N3.1", "090"),
    ("w21038", "硫酸盐", "sulfate", "毫克/升", "千克", "N6", ""),
    ("w22001", "石油类", "petroleum oils", "毫克/升", "千克", "N3.2", "080"),
    ("w23002", "挥发酚", "volatile phenols", "毫克/升", "千克", "N3.4", "110"),
    ("w25043", "苯并[α]芘", "benzo[a]pyrene", "微克/升", "克", "N3.1", "540"),  # α as printed
    ("w33001", "六六六", "hexachlorocyclohexane (BHC)", "纳克/升", "毫克", "N4", "350"),
    ("w33007", "滴滴涕", "DDT", "纳克/升", "毫克", "N4", "351"),
    ("w99001", "有机氮", "organic nitrogen", "毫克/升", "千克", "N3.1", "061"),
)

# Table B.2 气监测因子编码表 (121 rows).
_AIR: Final[tuple[_Row, ...]] = (
    ("a00000", "废气", "waste gas (flow)", "立方米/秒", "立方米", "N6.1", "B02"),
    ("a01001", "温度", "temperature", "摄氏度", "", "N3.1", ""),
    ("a01002", "湿度", "humidity", "%", "", "N3.1", ""),
    ("a01006", "气压", "atmospheric pressure", "千帕", "", "N5.3", ""),
    ("a01007", "风速", "wind speed", "米/秒", "", "N4.1", ""),
    ("a01008", "风向", "wind direction", "[角]度", "", "N4", ""),
    ("a01010", "林格曼黑度", "Ringelmann blackness", "无量纲", "", "N1", "37"),
    ("a01011", "烟气流速", "flue gas velocity", "米/秒", "", "N5.2", "S02"),
    ("a01012", "烟气温度", "flue gas temperature", "摄氏度", "", "N3.1", "S03"),
    ("a01013", "烟气压力", "flue gas pressure", "千帕", "", "N5.3", "S08"),
    ("a01014", "烟气湿度", "flue gas humidity", "%", "", "N3.1", "S05"),
    ("a01015", "制冷温度", "cooler temperature", "摄氏度", "", "N3.1", "S06"),
    ("a01016", "烟道截面积", "flue cross-section area", "平方米", "", "N4.2", "S07"),
    ("a01017", "烟气动压", "flue gas dynamic pressure", "千帕", "", "N5.3", "S04"),
    ("a01901", "垃圾焚烧炉膛内焚烧平均温度", "waste incinerator furnace mean combustion temperature", "摄氏度", "", "N4.1", ""),
    ("a01902", "垃圾焚烧炉膛内 DCS 温度", "waste incinerator furnace temperature (DCS)", "摄氏度", "", "N4.1", ""),
    ("a05001", "二氧化碳", "carbon dioxide", "毫克/立方米", "千克", "N3.3", "30"),
    ("a05002", "甲烷", "methane", "纳克/立方米", "克", "N4.1", ""),  # misprint? ng/m³ with g
    ("a05008", "三氯一氟甲烷", "trichlorofluoromethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a05009", "二氯二氟甲烷", "dichlorodifluoromethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a05013", "三氯三氟乙烷", "trichlorotrifluoroethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a19001", "氧气含量", "oxygen content", "%", "", "N3.1", "S01"),
    ("a20007", "砷", "arsenic", "纳克/立方米", "克", "N1.6", ""),  # misprint? ng/m³ with g
    ("a20016", "铍及其化合物", "beryllium and its compounds", "毫克/立方米", "千克", "N4.4", "36"),
    ("a20025", "镉及其化合物", "cadmium and its compounds", "毫克/立方米", "千克", "N3.4", "33"),
    ("a20026", "镉", "cadmium", "纳克/立方米", "克", "N3.3", ""),  # misprint? ng/m³ with g
    ("a20043", "铅及其化合物", "lead and its compounds", "毫克/立方米", "千克", "N2.4", "32"),
    ("a20044", "铅", "lead", "纳克/立方米", "克", "N3.3", ""),  # misprint? ng/m³ with g
    ("a20057", "汞及其化合物", "mercury and its compounds", "毫克/立方米", "千克", "N4.4", "31"),
    ("a20058", "汞", "mercury", "纳克/立方米", "克", "N3.2", ""),  # misprint? ng/m³ with g
    ("a20063", "镍及其化合物", "nickel and its compounds", "毫克/立方米", "千克", "N3.3", "35"),
    ("a20091", "锡及其化合物", "tin and its compounds", "毫克/立方米", "千克", "N4.3", "34"),
    ("a21001", "氨（氨气）", "ammonia", "纳克/立方米", "克", "N4.3", "10"),  # misprint? ng/m³ with g
    ("a21002", "氮氧化物", "nitrogen oxides", "毫克/立方米", "千克", "N5.1", "03"),
    ("a21003", "一氧化氮", "nitric oxide", "毫克/立方米", "千克", "N4.1", ""),
    ("a21004", "二氧化氮", "nitrogen dioxide", "毫克/立方米", "千克", "N4.1", ""),
    ("a21005", "一氧化碳", "carbon monoxide", "毫克/立方米", "千克", "N3.3", "04"),
    ("a21017", "氰化物", "cyanide", "毫克/立方米", "千克", "N3.3", "07"),
    ("a21018", "氟化物", "fluoride", "毫克/立方米", "千克", "N2.3", "06"),
    ("a21022", "氯气", "chlorine", "毫克/立方米", "千克", "N4.3", "11"),
    ("a21024", "氯化氢", "hydrogen chloride", "毫克/立方米", "千克", "N4.3", "08"),
    ("a21026", "二氧化硫", "sulfur dioxide", "毫克/立方米", "千克", "N5.2", "02"),
    ("a21028", "硫化氢", "hydrogen sulfide", "毫克/立方米", "千克", "N3.2", "05"),
    ("a23001", "酚类", "phenols", "毫克/立方米", "千克", "N3.3", "27"),
    ("a24003", "二氯甲烷", "dichloromethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24004", "三氯甲烷", "trichloromethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24005", "四氯甲烷", "tetrachloromethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24006", "二溴一氯甲烷", "dibromochloromethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24007", "一溴二氯甲烷", "bromodichloromethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24008", "溴甲烷", "bromomethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24009", "三溴甲烷", "tribromomethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24015", "氯乙烷", "chloroethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24016", "1,1-二氯乙烷", "1,1-dichloroethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24017", "1,2-二氯乙烷", "1,2-dichloroethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24018", "1,1,1-三氯乙烷", "1,1,1-trichloroethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24019", "1,1,2-三氯乙烷", "1,1,2-trichloroethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24020", "1,1,2,2-四氯乙烷", "1,1,2,2-tetrachloroethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24027", "1,2-二氯丙烷", "1,2-dichloropropane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24034", "1,2-二溴乙烷", "1,2-dibromoethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24036", "环己烷", "cyclohexane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24042", "正己烷", "n-hexane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24043", "正庚烷", "n-heptane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24046", "氯乙烯", "vinyl chloride", "毫克/立方米", "千克", "N4.3", "29"),
    ("a24047", "1,1-二氯乙烯", "1,1-dichloroethylene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24049", "三氯乙烯", "trichloroethylene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24050", "四氯乙烯", "tetrachloroethylene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24053", "丙烯", "propylene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24054", "1,3-二氯丙烯", "1,3-dichloropropene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24072", "1,4-二恶烷", "1,4-dioxane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24078", "1,3-丁二烯", "1,3-butadiene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24087", "碳氢化合物", "hydrocarbons", "毫克/立方米", "千克", "N5.2", "25"),
    ("a24088", "非甲烷总烃", "non-methane hydrocarbons", "毫克/立方米", "千克", "N7.3", ""),
    ("a24099", "氯甲烷", "chloromethane", "毫克/立方米", "千克", "N7.3", ""),
    ("a24110", "反式-1,2-二氯乙烯", "trans-1,2-dichloroethylene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24111", "顺式-1,2-二氯乙烯", "cis-1,2-dichloroethylene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24112", "反式-1,3-二氯丙烯", "trans-1,3-dichloropropene", "毫克/立方米", "千克", "N7.3", ""),
    ("a24113", "六氯-1,3-丁二烯", "hexachloro-1,3-butadiene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25002", "苯", "benzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25003", "甲苯", "toluene", "毫克/立方米", "千克", "N4.2", "17"),
    ("a25004", "乙苯", "ethylbenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25005", "二甲苯", "xylene", "毫克/立方米", "千克", "N4.2", "18"),
    ("a25006", "1,2-二甲基苯", "1,2-dimethylbenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25007", "1,3-二甲基苯", "1,3-dimethylbenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25008", "1,4-二甲基苯", "1,4-dimethylbenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25010", "氯苯", "chlorobenzene", "毫克/立方米", "千克", "N4.3", "23"),
    ("a25011", "1,2-二氯苯", "1,2-dichlorobenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25012", "1,3-二氯苯", "1,3-dichlorobenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25013", "1,4-二氯苯", "1,4-dichlorobenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25014", "1-乙基-4-甲基苯", "1-ethyl-4-methylbenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25015", "1,2,4-三氯苯", "1,2,4-trichlorobenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25019", "1,2,4-三甲基苯", "1,2,4-trimethylbenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25020", "1,2,3-三甲基苯", "1,2,3-trimethylbenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25021", "1,3,5-三甲基苯", "1,3,5-trimethylbenzene", "毫克/立方米", "千克", "N7.3", ""),
    ("a25023", "硝基苯", "nitrobenzene", "毫克/立方米", "千克", "N3.4", "22"),
    ("a25038", "乙烯基苯", "vinylbenzene (styrene)", "毫克/立方米", "千克", "N7.3", ""),
    ("a25044", "苯并[a]芘", "benzo[a]pyrene", "毫克/立方米", "千克", "N4.3", "20"),
    ("a25072", "四氢呋喃", "tetrahydrofuran", "毫克/立方米", "千克", "N7.3", ""),
    ("a26001", "苯胺类", "anilines", "毫克/立方米", "千克", "N4.3", "21"),
    ("a29017", "乙酸乙酯", "ethyl acetate", "毫克/立方米", "千克", "N7.3", ""),
    ("a29026", "乙酸乙烯酯", "vinyl acetate", "毫克/立方米", "千克", "N7.3", ""),
    ("a30001", "甲醇", "methanol", "毫克/立方米", "千克", "N4.3", "28"),
    ("a30008", "异丙醇", "isopropanol", "毫克/立方米", "千克", "N7.3", ""),
    ("a30022", "硫醇", "mercaptans", "毫克/立方米", "千克", "N4.3", "13"),
    ("a31001", "甲醛", "formaldehyde", "毫克/立方米", "千克", "N3.3", "19"),
    ("a31002", "乙醛", "acetaldehyde", "毫克/立方米", "千克", "N3.4", "26"),
    ("a31024", "丙酮", "acetone", "毫克/立方米", "千克", "N7.3", ""),
    ("a31025", "2-丁酮", "2-butanone", "毫克/立方米", "千克", "N7.3", ""),
    ("a31030", "甲基异丁基甲酮", "methyl isobutyl ketone", "毫克/立方米", "千克", "N7.3", ""),
    ("a34001", "总悬浮颗粒物 TSP", "total suspended particulates (TSP)", "纳克/立方米", "克", "N4.3", ""),  # misprint? ng/m³ with g
    ("a34002", "可吸入颗粒物 PM10", "inhalable particulates (PM10)", "纳克/立方米", "克", "N3.3", ""),  # misprint? ng/m³ with g
    ("a34004", "细微颗粒物 PM2.5", "fine particulates (PM2.5)", "纳克/立方米", "克", "N3.3", ""),  # misprint? ng/m³ with g
    ("a34005", "亚微米颗粒物 PM1.0", "submicron particulates (PM1.0)", "纳克/立方米", "克", "N3.3", ""),  # misprint? ng/m³ with g
    ("a34011", "降尘", "dustfall", "吨/平方千米•月", "", "", ""),  # misprint? no -Cou unit, no data type
    ("a34013", "烟尘", "smoke dust (particulate matter)", "毫克/立方米", "千克", "N4", "01"),
    ("a34017", "炭黑尘", "carbon black dust", "毫克/立方米", "千克", "N4", ""),
    ("a34038", "沥青烟", "asphalt fume", "毫克/立方米", "千克", "N4.3", "09"),
    ("a34039", "硫酸雾", "sulfuric acid mist", "毫克/立方米", "千克", "N4.3", "14"),
    ("a34040", "铬酸雾", "chromic acid mist", "毫克/立方米", "千克", "N2.3", "15"),
    ("a99010", "丙烯腈", "acrylonitrile", "毫克/立方米", "千克", "N7.3", ""),
    ("a99049", "光气", "phosgene", "毫克/立方米", "千克", "N3.3", "24"),
    ("a99051", "二硫化碳", "carbon disulfide", "毫克/立方米", "千克", "N4.3", "12"),
)

# Table B.3 声环境监测因子编码表 (12 rows, no 原编码 or -Cou column). HJ/T 212-2005
# Appendix B used the same codes (all but LA), so code_2005 is the code itself.
_NOISE: Final[tuple[_Row, ...]] = (
    ("LA", "A 权声级", "A-weighted sound level", "分贝", "", "N3.1", ""),
    ("L5", "累计百分声级 L5", "percentile sound level L5", "分贝", "", "N3.1", "L5"),
    ("L10", "累计百分声级 L10", "percentile sound level L10", "分贝", "", "N3.1", "L10"),
    ("L50", "累计百分声级 L50", "percentile sound level L50", "分贝", "", "N3.1", "L50"),
    ("L90", "累计百分声级 L90", "percentile sound level L90", "分贝", "", "N3.1", "L90"),
    ("L95", "累计百分声级 L95", "percentile sound level L95", "分贝", "", "N3.1", "L95"),
    ("Leq", "等效声级", "equivalent continuous sound level", "分贝", "", "N3.1", "Leq"),
    ("Ldn", "昼夜等效声级", "day-night equivalent sound level", "分贝", "", "N3.1", "Ldn"),
    ("Ld", "昼间等效声级", "daytime equivalent sound level", "分贝", "", "N3.1", "Ld"),
    ("Ln", "夜间等效声级", "night-time equivalent sound level", "分贝", "", "N3.1", "Ln"),
    ("LMx", "最大的瞬时声级", "maximum instantaneous sound level", "分贝", "", "N3.1", "LMx"),
    ("LMn", "最小的瞬时声级", "minimum instantaneous sound level", "分贝", "", "N3.1", "LMn"),
)

# Table B.5 污水排放过程（工况）监控监测因子编码表 (90 printed rows; xx = device 01-99).
# No -Cou column, no 原编码 column.
_PROCESS_WATER: Final[tuple[_Row, ...]] = (
    ("e101xx", "进水口流量", "inlet flow", "升/秒", "", "N6.2", ""),
    ("e102xx", "进水口 COD", "inlet COD", "毫克/升", "", "N5.1", ""),
    ("e103xx", "进水口氨氮", "inlet ammonia nitrogen", "毫克/升", "", "N3.2", ""),
    ("e104xx", "进水口总磷", "inlet total phosphorus", "毫克/升", "", "N3.2", ""),
    ("e105xx", "进水口总氮", "inlet total nitrogen", "毫克/升", "", "N5.1", ""),
    ("e106xx", "进水口 pH", "inlet pH", "无量纲", "", "N2.2", ""),
    ("e201xx", "出水口流量", "outlet flow", "升/秒", "", "N6.2", ""),
    ("e202xx", "出水口 COD", "outlet COD", "毫克/升", "", "N5.1", ""),
    ("e203xx", "出水口氨氮", "outlet ammonia nitrogen", "毫克/升", "", "N3.2", ""),
    ("e204xx", "出水口总磷", "outlet total phosphorus", "毫克/升", "", "N3.2", ""),
    ("e205xx", "出水口 PH", "outlet pH", "无量纲", "", "N2.2", ""),
    ("e301xx", "污水提升泵", "sewage lift pump (current)", "安 [培]", "", "N4.2", ""),
    ("e302xx", "鼓风机", "blower (current)", "安 [培]", "", "N4.2", ""),
    ("e303xx", "鼓风量", "blower air volume", "毫克/升", "", "N7", ""),  # misprint? mg/L for air
    ("e304xx", "生化池污泥浓度", "bioreactor sludge concentration", "毫克/升", "", "N5.1", ""),
    ("e305xx", "生化池溶解氧浓度", "bioreactor dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e306xx", "污泥剩余泵", "excess sludge pump (current)", "安 [培]", "", "N4.2", ""),
    ("e307xx", "污泥回流泵", "return sludge pump (current)", "安 [培]", "", "N4.2", ""),
    ("e308xx", "污泥回流量", "return sludge amount", "千克", "", "N7", ""),
    ("e309xx", "污泥剩余量", "excess sludge amount", "千克", "", "N7", ""),
    ("e310xx", "污泥压滤机", "sludge filter press (current)", "安 [培]", "", "N4.2", ""),
    ("e311xx", "阀门状态", "valve state", "无量纲", "", "N1", ""),
    ("e312xx", "储泥池液位", "sludge storage tank level", "米", "", "N2.3", ""),
    ("e313xx", "加药量", "chemical dosing", "毫克/升", "", "N5.1", ""),
    ("e314xx", "生化池氧化还原电位", "bioreactor ORP", "毫伏[特]", "", "N7", ""),
    ("e401xx", "污水提升泵", "sewage lift pump (current)", "安 [培]", "", "N4.2", ""),
    ("e402xx", "曝气设备", "aeration equipment (current)", "安 [培]", "", "N4.2", ""),
    ("e403xx", "生化池污泥浓度", "bioreactor sludge concentration", "毫克/升", "", "N5.1", ""),
    ("e404xx", "厌氧池溶解氧浓度", "anaerobic tank dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e405xx", "缺氧池溶解氧浓度", "anoxic tank dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e406xx", "好氧池溶解氧浓度", "aerobic tank dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e407xx", "污泥剩余泵", "excess sludge pump (current)", "安 [培]", "", "N4.2", ""),
    ("e408xx", "污泥回流泵", "return sludge pump (current)", "安 [培]", "", "N4.2", ""),
    ("e409xx", "污泥回流量", "return sludge amount", "千克", "", "N4.2", ""),
    ("e410xx", "污泥剩余量", "excess sludge amount", "千克", "", "N4.2", ""),
    ("e411xx", "污泥压滤机", "sludge filter press (current)", "安 [培]", "", "N4.2", ""),
    ("e412xx", "搅拌器转态", "mixer state", "无量纲", "", "N1", ""),  # 转态 for 状态, as printed
    ("e413xx", "阀门状态", "valve state", "无量纲", "", "N1", ""),
    ("e414xx", "缺氧池氧化还原电位", "anoxic tank ORP", "毫伏[特]", "", "N7", ""),
    ("e415xx", "好氧池氧化还原电位", "aerobic tank ORP", "毫伏[特]", "", "N7", ""),
    ("e416xx", "提升泵池液位", "lift pump sump level", "米", "", "N2.3", ""),
    ("e417xx", "储泥池液位", "sludge storage tank level", "米", "", "N2.3", ""),
    ("e418xx", "加药量", "chemical dosing", "毫克/升", "", "N5.1", ""),
    ("e501xx", "污水提升泵", "sewage lift pump (current)", "安 [培]", "", "N4.2", ""),
    ("e502xx", "曝气设备", "aeration equipment (current)", "安 [培]", "", "N4.2", ""),
    ("e503xx", "供气量状态", "air supply state", "无量纲", "", "N1", ""),
    ("e504xx", "生化池污泥浓度", "bioreactor sludge concentration", "毫克/升", "", "N5.1", ""),
    ("e505xx", "厌氧池溶解氧浓度", "anaerobic tank dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e506xx", "缺氧池溶解氧浓度", "anoxic tank dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e507xx", "好氧池溶解氧浓度", "aerobic tank dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e508xx", "混合液回流泵", "mixed liquor return pump (current)", "安 [培]", "", "N4.2", ""),
    ("e509xx", "剩余污泥泵", "excess sludge pump (current)", "安 [培]", "", "N4.2", ""),
    ("e510xx", "剩余污泥量", "excess sludge amount", "千克", "", "N7", ""),
    ("e511xx", "搅拌器状态", "mixer state", "无量纲", "", "N1", ""),
    ("e512xx", "阀门状态", "valve state", "无量纲", "", "N1", ""),
    ("e513xx", "缺氧池氧化还原电位", "anoxic tank ORP", "毫伏[特]", "", "N7", ""),
    ("e514xx", "好氧池氧化还原电位", "aerobic tank ORP", "毫伏[特]", "", "N7", ""),
    ("e515xx", "提升泵池液位", "lift pump sump level", "米", "", "N2.3", ""),
    ("e516xx", "储泥池液位", "sludge storage tank level", "米", "", "N2.3", ""),
    ("e517xx", "加药量", "chemical dosing", "毫克/升", "", "N5.1", ""),
    ("e601xx", "污水提升泵", "sewage lift pump (current)", "安 [培]", "", "N4.2", ""),
    ("e602xx", "曝气设备", "aeration equipment (current)", "安 [培]", "", "N4.2", ""),
    ("e603xx", "SBR 池污泥浓度", "SBR tank sludge concentration", "毫克/升", "", "N5.1", ""),
    ("e604xx", "SBR 池溶解氧浓度", "SBR tank dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e605xx", "污泥剩余泵", "excess sludge pump (current)", "安 [培]", "", "N4.2", ""),
    ("e606xx", "污泥回流泵", "return sludge pump (current)", "安 [培]", "", "N4.2", ""),
    ("e607xx", "污泥回流量", "return sludge amount", "千克", "", "N7", ""),
    ("e608xx", "污泥剩余量", "excess sludge amount", "千克", "", "N7", ""),
    ("e609xx", "污泥压滤机", "sludge filter press (current)", "安 [培]", "", "N4.2", ""),
    ("e610xx", "搅拌器", "mixer (current)", "安 [培]", "", "N4.2", ""),
    # e611xx-e613xx are not printed
    ("e614xx", "SBR 池曝气搅拌时氧化还原电位", "SBR tank ORP while aerating and mixing", "毫伏[特]", "", "N7", ""),
    ("e615xx", "阀门状态", "valve state", "无量纲", "", "N1", ""),
    ("e616xx", "提升泵池液位", "lift pump sump level", "米", "", "N2.3", ""),
    ("e617xx", "储泥池液位", "sludge storage tank level", "米", "", "N2.3", ""),
    ("e701xx", "污水提升泵", "sewage lift pump (current)", "安 [培]", "", "N4.2", ""),
    ("e702xx", "曝气设备", "aeration equipment (current)", "安 [培]", "", "N4.2", ""),
    ("e703xx", "接触氧化池污泥浓度", "contact oxidation tank sludge concentration", "毫克/升", "", "N5.1", ""),
    ("e704xx", "接触氧化池溶解氧浓度", "contact oxidation tank dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e705xx", "剩余污泥泵", "excess sludge pump (current)", "安 [培]", "", "N4.2", ""),
    ("e706xx", "剩余污泥量", "excess sludge amount", "千克", "", "N7", ""),
    ("e707xx", "污泥压滤机", "sludge filter press (current)", "安 [培]", "", "N4.2", ""),
    ("e708xx", "阀门状态", "valve state", "无量纲", "", "N1", ""),
    ("e709xx", "提升泵池液位", "lift pump sump level", "米", "", "N2.3", ""),
    ("e710xx", "储泥池液位", "sludge storage tank level", "米", "", "N2.3", ""),
    ("e701xx", "加药量", "chemical dosing", "毫克/升", "", "N5.1", ""),  # misprint? e701 printed twice
    ("e801xx", "污水提升泵", "sewage lift pump (current)", "安 [培]", "", "N4.2", ""),
    ("e802xx", "曝气设备", "aeration equipment (current)", "安 [培]", "", "N4.2", ""),
    ("e803xx", "污泥浓度", "sludge concentration", "毫克/升", "", "N5.1", ""),
    ("e804xx", "溶解氧浓度", "dissolved oxygen", "毫克/升", "", "N5.1", ""),
    ("e805xx", "剩余污泥泵", "excess sludge pump (current)", "安 [培]", "", "N4.2", ""),
)

# Table B.7 烟气排放过程（工况）监控监测因子编码表 (55 printed rows; xx = device 1-99).
_PROCESS_GAS: Final[tuple[_Row, ...]] = (
    ("g101xx", "增压风机状态", "booster fan state", "无量纲", "", "N1", ""),
    ("g102xx", "增压风机电流", "booster fan current", "安 [培]", "", "N4.2", ""),
    ("g103xx", "浆液循环泵状态", "slurry recirculation pump state", "无量纲", "", "N1", ""),
    ("g104xx", "浆液循环泵电流", "slurry recirculation pump current", "安 [培]", "", "N4.2", ""),
    ("g105xx", "密封剂状态", "seal system state", "无量纲", "", "N1", ""),
    ("g106xx", "密封剂电流", "seal system current", "安 [培]", "", "N4.2", ""),
    ("g107xx", "GGH 运行状态", "GGH (gas-gas heater) running state", "无量纲", "", "N1", ""),
    ("g108xx", "GGH 电机电流", "GGH motor current", "安 [培]", "", "N4.2", ""),
    ("g109xx", "浆液泵状态", "slurry pump state", "无量纲", "", "N1", ""),
    ("g110xx", "浆液泵流量", "slurry pump flow", "立方米/小时", "", "N4.3", ""),
    ("g111xx", "脱硫塔内浆液 pH", "slurry pH in desulfurisation tower", "无量纲", "", "N2.2", ""),
    ("g112xx", "吸收塔除雾器状态", "absorber demister state", "无量纲", "", "N1", ""),
    ("g113xx", "吸收塔除物器电流", "absorber demister current", "安 [培]", "", "N4.2", ""),  # 除物器 as printed
    ("g114xx", "吸收塔搅拌器状态", "absorber agitator state", "无量纲", "", "N1", ""),
    ("g115xx", "吸收塔浆液密度", "absorber slurry density", "千克/立方米", "", "N3.3", ""),
    ("g116xx", "旁路挡板门开度", "bypass damper opening", "[角]度", "", "N4", ""),
    ("g117xx", "石膏排除泵状态", "gypsum discharge pump state", "无量纲", "", "N1", ""),
    ("g118xx", "石膏排除泵电流", "gypsum discharge pump current", "安 [培]", "", "N4.2", ""),
    ("g119xx", "脱硫率", "desulfurisation efficiency", "%", "", "N3.2", ""),  # misprint? g119 again below
    ("g201xx", "脱硫塔内喷水泵电流", "desulfurisation tower spray pump current", "安 [培]", "", "N4.2", ""),
    ("g202xx", "脱硫剂输送装置", "sorbent conveyor (current)", "安 [培]", "", "N4.2", ""),
    ("g203xx", "称重给煤机计量信号", "gravimetric coal feeder metering signal", "无量纲", "", "N1", ""),
    ("g204xx", "炉膛床压", "furnace bed pressure", "帕", "", "N7", ""),
    ("g205xx", "炉膛床温", "furnace bed temperature", "摄氏度", "", "N5.1", ""),
    ("g206xx", "冷渣器转速", "slag cooler speed", "转/分钟", "", "N6", ""),
    ("g207xx", "返料风机电流", "return-material fan current", "安 [培]", "", "N4.2", ""),
    ("g208xx", "引风机电流", "induced draft fan current", "安 [培]", "", "N4.2", ""),
    ("g209xx", "一次风机电流", "primary air fan current", "安 [培]", "", "N4.2", ""),
    ("g210xx", "二次风机电流", "secondary air fan current", "安 [培]", "", "N4.2", ""),
    ("g211xx", "石灰石给料机电流", "limestone feeder current", "安 [培]", "", "N4.2", ""),
    ("g212xx", "脱硫率", "desulfurisation efficiency", "%", "", "N3.1", ""),
    ("g301xx", "氨喷射系统电流", "ammonia injection system current", "安 [培]", "", "N4.2", ""),
    ("g302xx", "稀释风机状态", "dilution fan state", "无量纲", "", "N1", ""),
    ("g303xx", "稀释风机电流", "dilution fan current", "安 [培]", "", "N4.2", ""),
    ("g304xx", "氨泵风机状态", "ammonia pump fan state", "无量纲", "", "N1", ""),
    ("g305xx", "氨泵风机电流", "ammonia pump fan current", "安 [培]", "", "N4.2", ""),
    ("g306xx", "旁路挡板状态", "bypass damper state", "无量纲", "", "N1", ""),
    ("g307xx", "旁路挡板开度", "bypass damper opening", "[角]度", "", "N4", ""),
    ("g308xx", "旁路挡板左右压差", "bypass damper differential pressure", "千帕", "", "N5.3", ""),
    ("g119xx", "入口二氧化硫 SO2", "inlet SO2", "毫克/立方米", "", "N3.3", ""),
    ("g120xx", "入口氮氧化物 NOx", "inlet NOx", "毫克/立方米", "", "N3.3", ""),
    ("g121xx", "入口含氧量 O2", "inlet O2", "%", "", "N3.1", ""),
    ("g122xx", "入口流量", "inlet flow", "立方米/小时", "", "N4.3", ""),
    ("g123xx", "入口温度", "inlet temperature", "摄氏度", "", "N3.1", ""),
    ("g124xx", "入口烟尘", "inlet smoke dust", "毫克/立方米", "", "N3.3", ""),
    ("g125xx", "入口压力", "inlet pressure", "千帕", "", "N5.3", ""),
    ("g126xx", "入口湿度", "inlet humidity", "%", "", "N3.1", ""),
    ("g127xx", "出口二氧化硫 SO2", "outlet SO2", "毫克/立方米", "", "N3.3", ""),
    ("g128xx", "出口氮氧化物 NOx", "outlet NOx", "毫克/立方米", "", "N3.3", ""),
    ("g129xx", "出口含氧量 O2", "outlet O2", "%", "", "N3.1", ""),
    ("g130xx", "出口流量", "outlet flow", "立方米/小时", "", "N4.3", ""),
    ("g131xx", "出口温度", "outlet temperature", "摄氏度", "", "N3.1", ""),
    ("g132xx", "出口烟尘", "outlet smoke dust", "毫克/立方米", "", "N3.3", ""),
    ("g133xx", "出口压力", "outlet pressure", "千帕", "", "N5.3", ""),
    ("g134xx", "出口湿度", "outlet humidity", "%", "", "N3.1", ""),
)

# Table B.10 现场端信息编码表 (38 printed rows: 34 codes and 4 patterns i3331x-i3334x).
# The 描述 column (state values, log format) is not carried here.
_INFO: Final[tuple[_Row, ...]] = (
    ("i11001", "运行日志", "instrument running log", "--", "", "C890", ""),
    ("i12001", "工作状态", "instrument working state", "无量纲", "", "N2", ""),
    ("i12002", "分析仪与数采仪通讯状态", "analyser to data-logger link state", "无量纲", "", "N1", ""),
    ("i12003", "COD 分析仪报警状态", "COD analyser alarm state", "无量纲", "", "N1", ""),
    ("i13001", "测量量程", "measuring range", "--", "", "--", ""),
    ("i13002", "测量精度", "measuring precision", "--", "", "--", ""),
    ("i13003", "测量间隔", "measuring interval", "分钟", "", "N4", ""),
    ("i13004", "消解温度", "digestion temperature", "摄氏度", "", "N3.1", ""),
    ("i13005", "消解时长", "digestion duration", "分钟", "", "N2", ""),
    ("i13006", "校准时间", "calibration time", "年月日时分秒", "", "YYYYMMDDHHMMSS", ""),
    ("i13007", "截距", "intercept", "--", "", "--", ""),
    ("i13008", "斜率", "slope", "--", "", "--", ""),
    ("i13009", "测量检出限", "detection limit", "--", "", "--", ""),
    ("i21001", "运行日志", "data-logger running log", "--", "", "C890", ""),
    ("i22001", "工作状态", "data-logger working state", "无量纲", "", "N1", ""),
    ("i22002", "用户状态", "data-logger user state", "无量纲", "", "N1", ""),
    ("i22003", "数采仪与上位机通讯状态", "data-logger to platform link state", "无量纲", "", "N1", ""),
    ("i22101", "数采仪通道通讯状态", "data-logger channel link state", "无量纲", "", "N1", ""),
    ("i23001", "本地大气压力", "local atmospheric pressure", "千帕", "", "N3.3", ""),
    ("i31001", "门禁日志", "access control log", "--", "", "C890", ""),
    ("i32001", "门禁状态", "access control state", "无量纲", "", "N1", ""),
    ("i33001", "CEMS 伴热管温度", "CEMS heated sample line temperature", "摄氏度", "", "N4", ""),
    ("i33002", "CEMS 冷凝温度", "CEMS condenser temperature", "摄氏度", "", "N1.1", ""),
    ("i33101", "监测站房温度", "station room temperature", "摄氏度", "", "N4", ""),
    ("i33102", "监测站房湿度", "station room humidity", "摄氏度", "", "N4", ""),  # misprint? °C
    ("i33103", "监测站房电压", "station room voltage", "伏[特]", "", "N4", ""),
    ("i33104", "监测站房原水压力", "station raw water pressure", "千帕", "", "N6", ""),
    ("i33105", "监测站房进样压力 1", "station sample inlet pressure 1", "千帕", "", "N6", ""),
    ("i33106", "监测站房进样压力 2", "station sample inlet pressure 2", "千帕", "", "N6", ""),
    ("i33107", "沉砂池清洗时间", "grit chamber cleaning time", "秒", "", "N4", ""),
    ("i33200", "污水处理站（厂）电流量", "treatment plant current", "安 [培]", "", "N4.2", ""),
    ("i33201", "污水处理站（厂）累计耗电量", "treatment plant cumulative energy use", "千瓦[特][小]时", "", "N13", ""),
    ("i33202", "污水处理站（厂）日耗电量", "treatment plant daily energy use", "千瓦[特][小]时", "", "N7", ""),
    ("i3331x", "炉膛内上部焚烧温度", "furnace upper combustion temperature", "摄氏度", "", "N4.1", ""),
    ("i3332x", "炉膛内中部焚烧温度", "furnace middle combustion temperature", "摄氏度", "", "N4.1", ""),
    ("i3333x", "炉膛内下部焚烧温度", "furnace lower combustion temperature", "摄氏度", "", "N4.1", ""),
    ("i3334x", "炉膛内二次空气喷入点温度", "furnace secondary air injection point temperature", "摄氏度", "", "N4.1", ""),
    ("i33400", "生产负荷", "production load", "%", "", "N3.1", ""),  # printed "I33400"
)
# fmt: on


def _factor(row: _Row, kind: str) -> Factor:
    code, name_zh, name_en, unit, cou_unit, data_type, code_2005 = row
    return Factor(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        unit=_UNIT[unit],
        cou_unit=_UNIT[cou_unit],
        data_type="" if data_type == "--" else data_type,
        code_2005=code_2005 or None,
        kind=kind,
    )


def _table(rows: tuple[_Row, ...], kind: str) -> dict[str, Factor]:
    """Rows keyed by code; a repeated code keeps its first row (see ``SHADOWED_PROCESS_ROWS``)."""
    table: dict[str, Factor] = {}
    for row in rows:
        factor = _factor(row, kind)
        table.setdefault(factor.code, factor)
    return table


FACTORS: Final[dict[str, Factor]] = {
    **_table(_WATER, "water"),
    **_table(_AIR, "air"),
    **_table(_NOISE, "noise"),
}


def _row(rows: tuple[_Row, ...], code: str, name_zh: str, kind: str) -> Factor:
    return next(_factor(row, kind) for row in rows if row[:2] == (code, name_zh))


# g119xx: keep the inlet SO2 row, which opens the g119..g126 inlet / g127..g134 outlet
# series, over the earlier 脱硫率 row; e701xx keeps the first row (lift pump, like e301,
# e401, e501, e601, e801). The rows that lose are in SHADOWED_PROCESS_ROWS.
_E701_DOSING = _row(_PROCESS_WATER, "e701xx", "加药量", "process-water")
_G119_DESULFURISATION = _row(_PROCESS_GAS, "g119xx", "脱硫率", "process-gas")
_process_gas = _table(_PROCESS_GAS, "process-gas")
_process_gas["g119xx"] = _row(_PROCESS_GAS, "g119xx", "入口二氧化硫 SO2", "process-gas")

PROCESS_PATTERNS: Final[dict[str, Factor]] = {
    factor.code[:4]: factor
    for factor in (*_table(_PROCESS_WATER, "process-water").values(), *_process_gas.values())
}
SHADOWED_PROCESS_ROWS: Final[tuple[Factor, ...]] = (_E701_DOSING, _G119_DESULFURISATION)

_info = _table(_INFO, "info")
INFO_CODES: Final[dict[str, Factor]] = {c: f for c, f in _info.items() if not c.endswith("x")}
# i3331x..i3334x: x is one digit 0-9 (Table B.10 描述), keyed by the 5-char prefix.
INFO_PATTERNS: Final[dict[str, Factor]] = {c[:5]: f for c, f in _info.items() if c.endswith("x")}
_ALIASES: Final = {"I33400": "i33400"}  # the spelling Table B.10 prints

# Table B.4 (water) and B.6 (gas) process types: the second character of e/g codes.
PROCESS_TYPES_WATER: Final = {
    "1": "污水处理厂进口污水流量及污染物",  # plant inlet flow and pollutants
    "2": "污水处理厂出口污水流量及污染物",  # plant outlet flow and pollutants
    "3": "传统活性污泥法",  # conventional activated sludge
    "4": "氧化沟法",  # oxidation ditch
    "5": "AO 法—A²O 法",  # AO / A2O (superscript lost in the text, restored)
    "6": "SBR 法",  # sequencing batch reactor
    "7": "生物接触氧化法",  # biological contact oxidation
    "8": "生物滤池法",  # biofilter
    "9": "污水处理厂设计参数",  # plant design parameters (no B.5 rows)
}
PROCESS_TYPES_GAS: Final = {
    "1": "湿法脱硫（石灰石/石灰-石膏法）",  # wet FGD (limestone/lime-gypsum)
    "2": "半干法脱硫（循环硫化床法）",  # semi-dry FGD (circulating fluidised bed)
    "3": "SCR",  # selective catalytic reduction
    "4": "SNCR",  # selective non-catalytic reduction
    "5": "电除尘",  # electrostatic precipitator
    "6": "布袋除尘",  # bag filter
}
# Tables B.8 and B.9: second and third characters of i codes.
INFO_DEVICE_CLASSES: Final = {
    "1": "在线监控（监测）仪器仪表",
    "2": "数据采集传输仪",
    "3": "辅助设备",
}
INFO_CLASSES: Final = {"1": "日志", "2": "状态", "3": "参数"}

# fmt: off
# HJ/T 212-2005 Appendix B as printed: code -> (名称, unit, data type). Water units are
# printed "mg/l"; S02 "m³/h" for a velocity and S07 "M²" are printed so; B01/B02/99 have no
# unit or type. 2005 names Ld 夜间 and Ln 昼间: swapped against GB 3096 (module docstring).
TABLE_2005: Final[dict[str, tuple[str, str, str]]] = {
    "B03": ("噪声", "dB", "N3.1"),
    "L10": ("累计百分声级 L10", "dB", "N3.1"),
    "L5": ("累计百分声级 L5", "dB", "N3.1"),
    "L50": ("累计百分声级 L50", "dB", "N3.1"),
    "L90": ("累计百分声计 L90", "dB", "N3.1"),  # 声计 for 声级, as printed
    "L95": ("累计百分声级 L95", "dB", "N3.1"),
    "Ld": ("夜间等效声级 Ld", "dB", "N3.1"),  # misprint? Ld is daytime
    "Ldn": ("昼夜等效声级 Ldn", "dB", "N3.1"),
    "Leq": ("30 秒等效声级 Leq", "dB", "N3.1"),
    "LMn": ("最小的瞬时声级", "dB", "N3.1"),
    "LMx": ("最大的瞬时声级", "dB", "N3.1"),
    "Ln": ("昼间等效声级 Ln", "dB", "N3.1"),  # misprint? Ln is night-time
    "S01": ("O2 含量", "%", "N3.1"),
    "S02": ("烟气流速", "m³/h", "N5.2"),  # misprint? a velocity (2017: m/s)
    "S03": ("烟气温度", "°C", "N3.1"),
    "S04": ("烟气动压", "MPa", "N4.2"),
    "S05": ("烟气湿度", "%", "N3.1"),
    "S06": ("制冷温度", "°C", "N3.1"),
    "S07": ("烟道截面积", "m²", "N4.2"),
    "S08": ("烟气压力", "MPa", "N4.2"),
    "B02": ("废气", "", ""),
    "01": ("烟尘", "mg/m³", "N5.2"),
    "02": ("二氧化硫", "mg/m³", "N5.2"),
    "03": ("氮氧化物", "mg/m³", "N5.3"),
    "04": ("一氧化碳", "mg/m³", "N2.3"),
    "05": ("硫化氢", "mg/m³", "N3.2"),
    "06": ("氟化物", "mg/m³", "N2.3"),
    "07": ("氰化物(含氰化氢)", "mg/m³", "N3.3"),
    "08": ("氯化氢", "mg/m³", "N4.3"),
    "09": ("沥青烟", "mg/m³", "N4.3"),
    "10": ("氨", "mg/m³", "N4.3"),
    "11": ("氯气", "mg/m³", "N4.3"),
    "12": ("二硫化碳", "mg/m³", "N4.3"),
    "13": ("硫醇", "mg/m³", "N4.3"),
    "14": ("硫酸雾", "mg/m³", "N4.3"),
    "15": ("铬酸雾", "mg/m³", "N2.4"),
    "16": ("苯系物", "mg/m³", "N4.2"),
    "17": ("甲苯", "mg/m³", "N4.2"),
    "18": ("二甲苯", "mg/m³", "N4.2"),
    "19": ("甲醛", "mg/m³", "N3.3"),
    "20": ("苯并(a)芘", "mg/m³", "N3.6"),
    "21": ("苯胺类", "mg/m³", "N4.3"),
    "22": ("硝基苯类", "mg/m³", "N3.4"),
    "23": ("氯苯类", "mg/m³", "N4.3"),
    "24": ("光气", "mg/m³", "N3.3"),
    "25": ("碳氢化合物(含非甲烷总烃)", "mg/m³", "N5.2"),
    "26": ("乙醛", "mg/m³", "N3.4"),
    "27": ("酚类", "mg/m³", "N3.3"),
    "28": ("甲醇", "mg/m³", "N5.2"),
    "29": ("氯乙烯", "mg/m³", "N4.3"),
    "30": ("二氧化碳", "mg/m³", "N4.3"),
    "31": ("汞及其化合物", "mg/m³", "N4.4"),
    "32": ("铅及其化合物", "mg/m³", "N2.4"),
    "33": ("镉及其化合物", "mg/m³", "N3.4"),
    "34": ("锡及其化合物", "mg/m³", "N4.3"),
    "35": ("镍及其化合物", "mg/m³", "N3.3"),
    "36": ("铍及其化合物", "mg/m³", "N4.4"),
    "37": ("林格曼黑度", "", "N1"),
    "99": ("其他气污染物", "", ""),
    "B01": ("污水", "", ""),
    "001": ("pH 值", "", "N2.1"),
    "002": ("色度", "colour unit", "N5.1"),
    "003": ("悬浮物", "mg/L", "N5.1"),
    "010": ("生化需氧量（BOD5）", "mg/L", "N5.1"),
    "011": ("化学需氧量（CODcr）", "mg/L", "N6.1"),
    "015": ("总有机碳", "mg/L", "N3.2"),
    "020": ("总汞", "mg/L", "N2.3"),
    "021": ("烷基汞", "mg/L", "N2.1"),
    "022": ("总镉", "mg/L", "N2.2"),
    "023": ("总铬", "mg/L", "N3.2"),
    "024": ("六价铬", "mg/L", "N2.2"),
    "025": ("三价铬", "mg/L", "N3.2"),
    "026": ("总砷", "mg/L", "N2.2"),
    "027": ("总铅", "mg/L", "N3.2"),
    "028": ("总镍", "mg/L", "N3.2"),
    "029": ("总铜", "mg/L", "N3.2"),
    "030": ("总锌", "mg/L", "N3.2"),
    "031": ("总锰", "mg/L", "N3.2"),
    "032": ("总铁", "mg/L", "N3.2"),
    "033": ("总银", "mg/L", "N2.2"),
    "034": ("总铍", "mg/L", "N2.3"),
    "035": ("总硒", "mg/L", "N2.2"),
    "036": ("锡", "mg/L", "N3.6"),
    "037": ("硼", "mg/L", "N3.6"),
    "038": ("钼", "mg/L", "N3.6"),
    "039": ("钡", "mg/L", "N3.6"),
    "040": ("钴", "mg/L", "N3.6"),
    "041": ("铊", "mg/L", "N3.6"),
    "060": ("氨氮", "mg/L", "N2.3"),
    "061": ("有机氮", "mg/L", "N3.2"),
    "065": ("总氮", "mg/L", "N3.2"),
    "080": ("石油类", "mg/L", "N3.2"),
    "101": ("总磷", "mg/L", "N3.2"),
}
# fmt: on

# 2005 codes of TABLE_2005 that no 2017 原编码 cell names. B03 (generic noise level) is
# closest to LA, but neither standard says so.
UNMAPPED_2005: Final = frozenset({"B03", "16", "99", "025"})

# Built from the 2017 原编码 column (and, for noise, the shared codes). Every pair agrees
# with TABLE_2005 by name; the 2017 column also maps 15 codes the 2005 appendix does not
# list (062-064, 070-072, 090, 110, 350, 351, 520, 540, 550, 570, 571). The only
# disagreement is Ld/Ln (names swapped in 2005); codes are kept, as the 2017 text fixes
# the names, not the codes.
CODE_2005_TO_2017: Final[dict[str, str]] = {
    factor.code_2005: code for code, factor in FACTORS.items() if factor.code_2005 is not None
}


def to_2017(code: str) -> str:
    """The HJ 212-2017 code for a HJ/T 212-2005 ``code``; any other code unchanged.

    Only the code changes: units may differ (``TABLE_2005`` against ``FACTORS``).
    """
    return CODE_2005_TO_2017.get(code, code)


_DIGITS: Final = frozenset("0123456789")


def lookup(code: str) -> Factor | None:
    """The table row for a 2017 ``code``: factor, process (e/g) or information (i) code.

    Process codes end in a device number 01-99 (§6.4.1) and resolve to their ``e102xx``
    pattern row; i3331x-i3334x take one digit. 2005 codes need ``to_2017`` first.
    """
    code = _ALIASES.get(code, code)
    found = FACTORS.get(code) or INFO_CODES.get(code)
    if found is not None or len(code) != 6:
        return found
    if code[4:] != "00" and set(code[4:]) <= _DIGITS and code[:4] in PROCESS_PATTERNS:
        return PROCESS_PATTERNS[code[:4]]
    if code[5] in _DIGITS:
        return INFO_PATTERNS.get(code[:5])
    return None
