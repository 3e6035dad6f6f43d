"""Code tables of HJ 212 in one place (HJ 212-2017 §6.6, Tables 5-9; HJ/T 212-2005 §6.5;
HJ 212-2025 additions as reported in ``docs/protocol.md`` §13), and the names the
rest of the code uses for them: :class:`Cn`, the CN groups, :class:`Reject` and
:class:`Deviation`.

Pollutant and information codes (Appendix B) and the 2005 -> 2017 map live in
:mod:`protocol.pollutants`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag, StrEnum
from typing import Final


class Flag(IntFlag):
    """Low bits of the header Flag, by bit position (2025 swapped the letters, not the bits)."""

    ACK = 1  # 2017 "A": the command wants an answer
    SPLIT = 2  # 2017 "D": the packet carries PNUM/PNO


VERSION_BITS = {0: "2005", 1: "2017", 2: "2025"}  # Flag >> 2
VERSION_FLAG = {version: bits << 2 for bits, version in VERSION_BITS.items()}

# ST, HJ 212-2017 Table 5 (GB/T 16706-1996); 44/45 are 2025 additions reported by third parties.
SYSTEM_CODES: dict[str, tuple[str, str]] = {
    "21": ("地表水质量监测", "surface water quality"),
    "22": ("空气质量监测", "air quality"),
    "23": ("声环境质量监测", "acoustic environment quality"),
    "24": ("地下水质量监测", "groundwater quality"),
    "25": ("土壤质量监测", "soil quality"),
    "26": ("海水质量监测", "seawater quality"),
    "27": ("挥发性有机物监测", "volatile organic compounds"),
    "31": ("大气环境污染源", "air pollution source"),
    "32": ("地表水体环境污染源", "surface-water pollution source"),
    "33": ("地下水体环境污染源", "groundwater pollution source"),
    "34": ("海洋环境污染源", "marine pollution source"),
    "35": ("土壤环境污染源", "soil pollution source"),
    "36": ("声环境污染源", "noise pollution source"),
    "37": ("振动环境污染源", "vibration pollution source"),
    "38": ("放射性环境污染源", "radioactive pollution source"),
    "39": ("工地扬尘污染源", "construction-site dust"),
    "41": ("电磁环境污染源", "electromagnetic pollution source"),
    "44": ("用电监控", "power-usage monitoring (2025)"),
    "45": ("关键生产工况监控", "key production conditions (2025)"),
    "51": ("烟气排放过程监控", "flue-gas process monitoring"),
    "52": ("污水排放过程监控", "waste-water process monitoring"),
    "91": ("系统交互", "system interaction"),
}


class Flow(StrEnum):
    """How a command is carried out (HJ 212-2017 §6.5)."""

    REQUEST = "request"  # U->F request -> 9011 -> [data] -> 9012
    UPLOAD = "upload"  # F->U data -> 9014 when Flag asks
    NOTIFY = "notify"  # sender -> receiver answers 9013
    INTERACTION = "interaction"  # 9011-9015 themselves


@dataclass(frozen=True, slots=True)
class Command:
    cn: str
    name_zh: str
    name_en: str
    flow: Flow
    sender: str  # "platform", "station" or "both"
    since: str = "2005"  # first standard that has it
    answer: str | None = None  # the answer the receiver owes: "9011", "9013", "9014"
    until: str | None = None  # last standard that has it (None: still current)

    def known_in(self, version: str) -> bool:
        """Whether the standard of ``version`` (2005/2017/2025) defines this CN."""
        return self.since <= version and (self.until is None or version <= self.until)


def _c(
    cn: str,
    zh: str,
    en: str,
    flow: Flow,
    sender: str,
    since: str = "2005",
    until: str | None = None,
) -> Command:
    answer = {Flow.REQUEST: "9011", Flow.NOTIFY: "9013", Flow.UPLOAD: "9014"}.get(flow)
    return Command(cn, zh, en, flow, sender, since, answer, until)


R, U, N, I = Flow.REQUEST, Flow.UPLOAD, Flow.NOTIFY, Flow.INTERACTION
# CN, HJ 212-2017 Table 9 and Appendix C. Codes used both ways (2011: the platform asks,
# the station uploads) are listed under the platform's request; UPLOAD_CODES says which
# of them a station sends as data.
COMMANDS: dict[str, Command] = {
    c.cn: c
    for c in (
        _c("1000", "设置超时时间及重发次数", "set timeout and retries", R, "platform"),
        _c("1001", "上传数采仪硬件序列号", "upload data-logger hardware ids", U, "station", "2025"),
        _c("1002", "设置数采仪入网编码", "set data-logger MN", R, "platform", "2025"),
        _c("1011", "提取现场机时间", "get field time", R, "platform"),
        _c("1012", "设置现场机时间", "set field time", R, "platform"),
        _c("1013", "现场机时间校准请求", "time-calibration request", N, "station", "2017"),
        _c("1014", "密钥更新", "new secret key", N, "both", "2025"),
        # HJ/T 212-2005 §6.5.1 only (HJ 212-2017 Table 9 dropped them): alarm limits,
        # the platform's address, the daily report time
        _c("1021", "提取污染物报警门限值", "get alarm limits", R, "platform", until="2005"),
        _c("1022", "设置污染物报警门限值", "set alarm limits", R, "platform", until="2005"),
        _c("1031", "提取上位机地址", "get platform address", R, "platform", until="2005"),
        _c("1032", "设置上位机地址", "set platform address", R, "platform", until="2005"),
        _c("1041", "提取数据上报时间", "get report time", R, "platform", until="2005"),
        _c("1042", "设置数据上报时间", "set report time", R, "platform", until="2005"),
        _c("1061", "提取实时数据间隔", "get real-time interval", R, "platform"),
        _c("1062", "设置实时数据间隔", "set real-time interval", R, "platform"),
        _c("1063", "提取分钟数据间隔", "get minute interval", R, "platform", "2017"),
        _c("1064", "设置分钟数据间隔", "set minute interval", R, "platform", "2017"),
        _c("1072", "设置现场机访问密码", "set field password", R, "platform"),
        _c("2011", "取污染物实时数据", "real-time data", R, "platform"),
        _c("2012", "停止察看污染物实时数据", "stop real-time data", N, "platform"),
        _c("2013", "原始监测数据", "raw monitoring data", R, "platform", "2025"),
        _c("2021", "取设备运行状态数据", "facility running state", R, "platform"),
        _c("2022", "停止察看设备运行状态", "stop facility running state", N, "platform"),
        _c("2031", "取污染物日历史数据", "daily history data", R, "platform"),
        _c("2041", "取设备运行时间日历史数据", "daily facility run time", R, "platform"),
        _c("2051", "取污染物分钟数据", "minute data", R, "platform"),
        _c("2052", "噪声单次测量数据", "single noise measurement", U, "station", "2025"),
        _c("2061", "取污染物小时数据", "hourly data", R, "platform"),
        _c(
            "2062",
            "自动标样核查数据",
            "automatic standard-sample check data",
            R,
            "platform",
            "2025",
        ),
        _c("2071", "取污染物报警记录", "alarm records", R, "platform", until="2005"),
        _c(
            "2072",
            "上传报警事件（HJ/T 212-2005，2017 已删除）",
            "alarm event (2005 only)",
            N,
            "station",
        ),
        _c("2081", "上传数采仪开机时间", "data-logger restart time", U, "station", "2017"),
        _c("2111", "炉温五分钟均值", "furnace temperature 5-minute mean", U, "station", "2025"),
        _c("3011", "零点校准量程校准", "zero/span calibration", R, "platform"),
        _c("3012", "即时采样", "immediate sampling", R, "platform"),
        _c("3013", "启动清洗/反吹", "start cleaning / blow-back", R, "platform"),
        _c("3014", "比对采样", "comparison sampling", R, "platform"),
        _c("3015", "超标留样", "over-limit sample retention", R, "platform", "2017"),
        _c("3016", "设置采样时间周期", "set sampling period", R, "platform", "2017"),
        _c("3017", "提取采样时间周期", "get sampling period", R, "platform", "2017"),
        _c("3018", "提取出样时间", "get sample-output time", R, "platform", "2017"),
        _c("3019", "提取设备唯一标识", "get instrument id", R, "platform", "2017"),
        _c("3020", "提取现场机信息", "field information", R, "platform", "2017"),
        _c("3021", "设置现场机参数", "set field parameter", R, "platform", "2017"),
        _c("3022", "即时留样", "immediate sample retention", R, "platform", "2025"),
        _c(
            "3024",
            "启动自动标样核查",
            "start automatic standard-sample check",
            R,
            "platform",
            "2025",
        ),
        _c("9011", "请求应答", "request answer", I, "station"),
        _c("9012", "执行结果", "execution result", I, "station"),
        _c("9013", "通知应答", "notification answer", I, "both"),
        _c("9014", "数据应答", "data answer", I, "both"),
        _c("9015", "心跳", "heartbeat", N, "station", "2025"),
    )
}
del R, U, N, I


class Cn:
    """A name for every CN of :data:`COMMANDS` (plain ``str`` constants, so that a CN
    compares, prints, serialises and is stored exactly as the wire text it stands for).
    ``tests/protocol/test_vocabulary.py`` checks that the names and the table agree."""

    SET_TIMEOUTS: Final = "1000"
    LOGGER_IDS: Final = "1001"
    SET_MN: Final = "1002"
    GET_TIME: Final = "1011"
    SET_TIME: Final = "1012"
    TIME_CALIBRATION: Final = "1013"
    NEW_KEY: Final = "1014"
    GET_RTD_INTERVAL: Final = "1061"
    SET_RTD_INTERVAL: Final = "1062"
    GET_MIN_INTERVAL: Final = "1063"
    SET_MIN_INTERVAL: Final = "1064"
    GET_ALARM_LIMITS: Final = "1021"
    SET_ALARM_LIMITS: Final = "1022"
    GET_PLATFORM_ADDRESS: Final = "1031"
    SET_PLATFORM_ADDRESS: Final = "1032"
    GET_REPORT_TIME: Final = "1041"
    SET_REPORT_TIME: Final = "1042"
    SET_PASSWORD: Final = "1072"
    REALTIME: Final = "2011"
    STOP_REALTIME: Final = "2012"
    RAW_DATA: Final = "2013"
    STATE: Final = "2021"
    STOP_STATE: Final = "2022"
    DAILY: Final = "2031"
    DAILY_RUN_TIME: Final = "2041"
    MINUTE: Final = "2051"
    HOURLY: Final = "2061"
    STANDARD_CHECK: Final = "2062"
    NOISE_SINGLE: Final = "2052"
    ALARM_RECORDS: Final = "2071"
    FURNACE_TEMPERATURE: Final = "2111"
    ALARM_EVENT: Final = "2072"
    RESTART: Final = "2081"
    CALIBRATE: Final = "3011"
    SAMPLE_NOW: Final = "3012"
    CLEAN: Final = "3013"
    COMPARISON_SAMPLE: Final = "3014"
    OVER_LIMIT_SAMPLE: Final = "3015"
    SET_SAMPLING_PERIOD: Final = "3016"
    GET_SAMPLING_PERIOD: Final = "3017"
    GET_SAMPLE_TIME: Final = "3018"
    GET_INSTRUMENT_ID: Final = "3019"
    FIELD_INFO: Final = "3020"
    SET_FIELD_PARAM: Final = "3021"
    RETAIN_SAMPLE: Final = "3022"
    START_STANDARD_CHECK: Final = "3024"
    REQUEST_ANSWER: Final = "9011"
    RESULT: Final = "9012"
    NOTIFY_ANSWER: Final = "9013"
    DATA_ANSWER: Final = "9014"
    HEARTBEAT: Final = "9015"


def _cns(
    flow: Flow, senders: frozenset[str] = frozenset({"platform", "station", "both"})
) -> frozenset[str]:
    return frozenset(cn for cn, c in COMMANDS.items() if c.flow is flow and c.sender in senders)


# What a station sends as data (answered with 9014 when its Flag asks), whether pushed on
# its own schedule or returned inside a request flow. Not derivable from COMMANDS, which
# lists a code used both ways under the platform's request.
UPLOAD_CODES = frozenset(
    {
        Cn.LOGGER_IDS,
        Cn.GET_TIME,
        Cn.GET_RTD_INTERVAL,
        Cn.GET_MIN_INTERVAL,
        Cn.REALTIME,
        Cn.RAW_DATA,
        Cn.STATE,
        Cn.DAILY,
        Cn.DAILY_RUN_TIME,
        Cn.MINUTE,
        Cn.HOURLY,
        Cn.STANDARD_CHECK,
        Cn.RESTART,
        Cn.OVER_LIMIT_SAMPLE,
        Cn.GET_SAMPLING_PERIOD,
        Cn.GET_SAMPLE_TIME,
        Cn.GET_INSTRUMENT_ID,
        Cn.FIELD_INFO,
        Cn.NOISE_SINGLE,
        Cn.FURNACE_TEMPERATURE,
        Cn.GET_ALARM_LIMITS,
        Cn.GET_PLATFORM_ADDRESS,
        Cn.GET_REPORT_TIME,
        Cn.ALARM_RECORDS,
    }
)
# Uploads whose CP carries measurements per pollutant (stored as measurements).
MEASUREMENT_CODES = frozenset({Cn.REALTIME, Cn.DAILY, Cn.MINUTE, Cn.HOURLY})
# HJ 212-2025 uploads stored as measurements too: a single noise measurement (2052) and
# the furnace's 5-minute mean temperature (2111, a01901-Avg); docs/protocol.md §13.
MEASUREMENT_CODES_2025 = frozenset({Cn.NOISE_SINGLE, Cn.FURNACE_TEMPERATURE})
# History a platform asks for with BeginTime/EndTime (HJ 212-2017 Table 9, C.20-C.23).
HISTORY_CODES = frozenset({Cn.DAILY, Cn.DAILY_RUN_TIME, Cn.MINUTE, Cn.HOURLY})
# The commands of a request flow: answered 9011, then 9012 (HJ 212-2017 §6.5).
REQUEST_CODES = _cns(Flow.REQUEST)
# Notifications a platform answers with 9013 (1013; 2005 alarm event 2072; 2025 heartbeat
# 9015 and key update 1014): the ones a station may send.
PLATFORM_ANSWERS_9013 = _cns(Flow.NOTIFY, frozenset({"station", "both"}))
# Notifications a station answers with 9013: the ones a platform may send.
STATION_ANSWERS_9013 = _cns(Flow.NOTIFY, frozenset({"platform", "both"}))
# The answers themselves (9011-9014).
REPLY_CODES = _cns(Flow.INTERACTION)


class Reject:
    """Why bytes could not be used: :attr:`protocol.Rejected.code`."""

    FRAMING: Final = "framing"  # no frame structure
    LENGTH: Final = "length"  # bad or too large length
    CRC: Final = "crc"  # no CRC matches
    LEGACY_CRC: Final = "legacy-crc"  # a legacy CRC matched but is not accepted
    SYNTAX: Final = "syntax"  # bad segment
    DECRYPT: Final = "decrypt"  # SM4 failed


class Deviation:
    """How a frame that was used bent the standard: :attr:`protocol.Message.deviations`.
    The ones ending in ``_`` are prefixes: ``f"{Deviation.LEGACY_CRC_}{variant}"``."""

    LENGTH_MISMATCH: Final = "length-mismatch"
    OVERSIZED: Final = "oversized"
    ENCRYPTED: Final = "encrypted"
    CRC_LOWERCASE: Final = "crc-lowercase"
    QN_FORMAT: Final = "qn-format"
    MN_LENGTH: Final = "mn-length"
    UNKNOWN_ST: Final = "unknown-st"
    UNKNOWN_CN: Final = "unknown-cn"
    SPLIT_WITHOUT_PNUM: Final = "split-without-pnum"
    CODES_2005: Final = "codes-2005"
    KEY_CASE: Final = "key-case"
    HEADER_COMMA: Final = "header-comma"
    LEGACY_CRC_: Final = "legacy-crc:"
    UNKNOWN_VERSION_: Final = "unknown-version:"
    BAD_VALUE_: Final = "bad-value:"
    # a -Flag that is not one character A-Z / 0-9 (HJ 212-2017 Table 4 C1, Table 8;
    # HJ/T 212-2005 Table 4 C1 "A-Z"): "NX", "", "n"
    BAD_FLAG_: Final = "bad-flag:"
    BLANK_CP: Final = "blank-cp"  # a CP area of blanks only ("CP=&& &&")
    # a HJ/T 212-2005 value brought to its HJ 212-2017 unit, naming code, units and factor
    UNIT_CONVERTED_: Final = "unit-converted:"


# QnRtn (9011), HJ 212-2017 Table 7; 2005 had 1-3.
QN_RTN = {
    1: "准备执行请求 ready to execute",
    2: "请求被拒绝 request rejected",
    3: "PW错误 wrong password",
    4: "MN错误 wrong MN",
    5: "ST错误 wrong ST",
    6: "Flag错误 wrong Flag",
    7: "QN错误 wrong QN",
    8: "CN错误 wrong CN",
    9: "CRC校验错误 CRC error",
    100: "未知错误 unknown error",
}
# ExeRtn (9012), HJ 212-2017 Table 6; 2005 had 1, 2 and 100.
EXE_RTN = {
    1: "执行成功 success",
    2: "执行失败，但不知道原因 failed, reason unknown",
    3: "命令请求条件错误 request conditions wrong",
    4: "通讯超时 communication timeout",
    5: "系统繁忙不能执行 system busy",
    6: "系统故障 system fault",
    100: "没有数据 no data",
}
# Data flags (-Flag), HJ 212-2017 Table 8; P is 2005 only (power failure), F changed meaning.
DATA_FLAGS = {
    "N": "在线监控（监测）仪器仪表工作正常 normal",
    "F": "在线监控（监测）仪器仪表停运 instrument stopped",
    "M": "在线监控（监测）仪器仪表处于维护期间产生的数据 maintenance",
    "S": "手工输入的设定值 manually set value",
    "D": "在线监控（监测）仪器仪表故障 instrument fault",
    "C": "在线监控（监测）仪器仪表处于校准状态 calibration",
    "T": "在线监控（监测）仪器仪表采样数值超过测量上限 over the measuring range",
    "B": "在线监控（监测）仪器仪表与数采仪通讯异常 communication fault",
    "P": "电源故障 power failure (HJ/T 212-2005)",
}
VALID_DATA_FLAGS = frozenset({"N"})  # the others mark data that is not normal
