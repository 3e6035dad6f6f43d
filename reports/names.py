"""What a person reads in place of a code: alarm kinds, severities and states, case
kinds, report columns, pollutants with their unit, regions (docs/console.md §2).

One table for the console (``GET /api/names``), the reports (reports/render.py) and the
evidence report (evidence/report.py). Each entry is (Chinese, English); a code not in a
table is shown as it is.
"""

from __future__ import annotations

from config import regions
from protocol.pollutants import lookup

Names = dict[str, tuple[str, str]]

# the alarm kinds the rules engine raises (rules/, docs/regulations.md §5 A1-A22, §6)
KINDS: Names = {
    "exceedance": ("超标", "exceedance"),
    "suspected-exceedance": ("疑似超标", "suspected exceedance"),
    "early-warning": ("超标预警", "early warning"),
    "daily-mean": ("日均值超标", "daily mean over limit"),
    "outage": ("联网中断（离线）", "outage (offline)"),
    "frames-refused": ("报文全部被拒", "every frame refused"),
    "hour-missing": ("小时数据缺失", "hour missing"),
    "hour-incomplete": ("小时数据不完整", "hour incomplete"),
    "day-incomplete": ("日数据不完整", "day incomplete"),
    "month-invalid": ("月数据无效", "month invalid"),
    "flow-zero": ("流量为零", "flow zero"),
    "flow-while-shutdown": ("停运期间有流量", "flow while shut down"),
    "constant": ("恒值", "constant value"),
    "negative": ("负值", "negative value"),
    "over-range": ("超量程", "over range"),
    "jump": ("突变", "jump"),
    "narrow-band": ("窄幅波动", "narrow band"),
    "duplicates": ("重复数据", "duplicate data"),
    "clock-drift": ("时钟偏差", "clock drift"),
    "out-of-order": ("时间乱序", "out of order"),
    "nox-inversion": ("NOx 倒挂", "NOx inversion"),
    "converted-mismatch": ("折算值不符", "converted value mismatch"),
    "cou-mismatch": ("排放量不符", "emission amount mismatch"),
    "aggregate-mismatch": ("统计值不符", "aggregate mismatch"),
    "limit-violation": ("限值设置异常", "limit setting violated"),
    "etr-low": ("有效传输率低于考核线", "transmission rate below threshold"),
    "standard-check": ("标气核查", "standard gas check"),
    "instrument-id": ("仪器编号变化", "instrument changed"),
    "instrument-replaced": ("仪器更换", "instrument replaced"),
    "logger-restart": ("数采仪重启", "logger restart"),
    "case-reminder": ("案件期限提醒", "case deadline reminder"),
    "case-overdue": ("案件逾期", "case overdue"),
    "report-overdue": ("书面报告逾期", "written report overdue"),
    "restore-overdue": ("恢复逾期", "restoration overdue"),
    "report-filed-late": ("报告逾期提交", "report filed late"),
    "case-report-returned": ("报告被退回", "report returned"),
    "manual-sampling-due": ("人工监测待录入", "manual sample due"),
    "manual-sampling-missed": ("人工监测缺失", "manual sample missed"),
}
SEVERITIES: Names = {
    "critical": ("严重", "critical"),
    "warning": ("警告", "warning"),
    "info": ("提示", "info"),
}
STATES: Names = {
    "open": ("未处理", "open"),
    "acknowledged": ("已确认", "acknowledged"),
    "resolved": ("已解决", "resolved"),
    "closed": ("已关闭", "closed"),
    "active": ("待处理", "active"),
}
CASE_KINDS: Names = {"outage": ("联网中断", "outage"), "facility": ("设施故障", "facility fault")}
COLUMNS: Names = {
    "level": ("层级", "level"),
    "region_code": ("地区", "region"),
    "enterprise": ("企业", "enterprise"),
    "mn": ("MN", "MN"),
    "station": ("站点", "station"),
    "pollutant": ("因子", "factor"),
    "expected": ("应传", "expected"),
    "shutdown_h": ("停运小时", "shutdown h"),
    "exempt_h": ("豁免小时", "exempt h"),
    "received_rt": ("即时实收", "received (rt)"),
    "valid_rt": ("即时有效", "valid (rt)"),
    "tr_rt": ("即时传输率", "TR (rt)"),
    "er_rt": ("即时有效率", "ER (rt)"),
    "etr_rt": ("即时有效传输率", "ETR (rt)"),
    "received": ("实收", "received"),
    "valid": ("有效", "valid"),
    "tr": ("传输率", "TR"),
    "er": ("有效率", "ER"),
    "etr": ("有效传输率", "ETR"),
    "threshold": ("考核线", "threshold"),
    "pass": ("达标", "pass"),
    "day": ("日期", "day"),
    "month": ("月份", "month"),
    "item": ("项目", "item"),
    "name": ("名称", "name"),
    "unit": ("单位", "unit"),
    "amount": ("排放量", "amount"),
    "device_cou": ("设备累计", "device Cou"),
    "difference": ("差异", "difference"),
    "hours": ("小时数", "hours"),
    "check": ("核对", "check"),
}
LEVELS: Names = {
    "pollutant": ("因子", "factor"),
    "station": ("站点", "station"),
    "enterprise": ("企业", "enterprise"),
    "total": ("合计", "total"),
    "region": ("地区", "region"),
}
VERDICTS: Names = {
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "ok": ("一致", "ok"),
    "differs": ("不一致", "differs"),
}
TABLES = {
    "kinds": KINDS,
    "severities": SEVERITIES,
    "states": STATES,
    "case_kinds": CASE_KINDS,
    "columns": COLUMNS,
    "levels": LEVELS,
}


def zh(table: Names, code: str) -> str:
    return table.get(code, (code, code))[0]


def factor(code: str, *, unit: bool = True) -> str:
    """二氧化硫 (mg/m³) for a21026: the 2017 Appendix B name, with the unit if it has one."""
    found = lookup(code)
    if found is None:
        return code
    return f"{found.name_zh} ({found.unit})" if unit and found.unit else found.name_zh


def region(code: str) -> str:
    """湖北省武汉市江岸区 for 420102 (config/regions.py); the code if unknown or if the
    code list is not installed (a report is still made)."""
    try:
        return regions.name_of(code)
    except regions.RegionListMissing:
        return code


def factors(codes: set[str]) -> dict[str, dict[str, str]]:
    """Name and unit of each factor code, in both languages (the console's table)."""
    out: dict[str, dict[str, str]] = {}
    for code in sorted(codes):
        found = lookup(code)
        if found is not None:
            out[code] = {"zh": found.name_zh, "en": found.name_en, "unit": found.unit}
    return out
