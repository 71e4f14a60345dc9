"""Handling units of the demo: the 12345 centre, city bureaus and public service enterprises.

District governments, street offices and district bureaus are derived from `regions`
(see `loader.load_organisation`). Codes are short stable identifiers (pinyin initials).
"""

from __future__ import annotations

PLATFORM = ("SZ12345", "深圳市12345热线服务中心", "12345热线中心")

#: (code, full name, short name)
CITY_BUREAUS: tuple[tuple[str, str, str], ...] = (
    ("SZZJJ", "深圳市住房和建设局", "市住房建设局"),
    ("SZGJJ", "深圳市住房公积金管理中心", "市公积金中心"),
    ("SZJTJ", "深圳市交通运输局", "市交通运输局"),
    ("SZJJJ", "深圳市公安局交通警察局", "市交警局"),
    ("SZSTHJJ", "深圳市生态环境局", "市生态环境局"),
    ("SZSCJGJ", "深圳市市场监督管理局", "市市场监管局"),
    ("SZRSJ", "深圳市人力资源和社会保障局", "市人力资源保障局"),
    ("SZJYJ", "深圳市教育局", "市教育局"),
    ("SZWJW", "深圳市卫生健康委员会", "市卫生健康委"),
    ("SZGAJ", "深圳市公安局", "市公安局"),
    ("SZCGJ", "深圳市城市管理和综合执法局", "市城管执法局"),
    ("SZGHZYJ", "深圳市规划和自然资源局", "市规划自然资源局"),
    ("SZSWJ", "深圳市水务局", "市水务局"),
    ("SZMZJ", "深圳市民政局", "市民政局"),
    ("SZYBJ", "深圳市医疗保障局", "市医保局"),
    ("SZSUIWUJ", "国家税务总局深圳市税务局", "市税务局"),
    ("SZYJGLJ", "深圳市应急管理局", "市应急管理局"),
    ("SZXFZD", "深圳市消防救援支队", "市消防救援支队"),
    ("SZWGLTJ", "深圳市文化广电旅游体育局", "市文化广电旅游体育局"),
    ("SZSHANGWUJ", "深圳市商务局", "市商务局"),
    ("SZFGW", "深圳市发展和改革委员会", "市发展改革委"),
    ("SZGXJ", "深圳市工业和信息化局", "市工业和信息化局"),
    ("SZKCJ", "深圳市科技创新局", "市科技创新局"),
    ("SZSFJ", "深圳市司法局", "市司法局"),
    ("SZTYJRJ", "深圳市退役军人事务局", "市退役军人事务局"),
    ("SZZSJ", "深圳市政务服务和数据管理局", "市政务服务数据管理局"),
    ("SZCZJ", "深圳市财政局", "市财政局"),
    ("SZJRJ", "深圳市地方金融管理局", "市地方金融管理局"),
    ("SZQXJ", "深圳市气象局", "市气象局"),
    ("SZKAB", "深圳市人民政府口岸办公室", "市口岸办"),
    ("SZYZGLJ", "深圳市邮政管理局", "市邮政管理局"),
    ("SZCL", "深圳市残疾人联合会", "市残联"),
)

#: Public service enterprises that take tickets like a bureau.
ENTERPRISES: tuple[tuple[str, str, str], ...] = (
    ("SZGDJ", "深圳供电局有限公司", "深圳供电局"),
    ("SZSWJT", "深圳市水务（集团）有限公司", "深圳市水务集团"),
    ("SZRQ", "深圳市燃气集团股份有限公司", "深圳燃气"),
    ("SZDT", "深圳市地铁集团有限公司", "深圳地铁"),
    ("SZBS", "深圳市巴士集团股份有限公司", "深圳巴士集团"),
)

#: District bureaus created in each district that has them (not Dapeng, whose functions are
#: organised differently). (suffix of the unit code, name after the district, short name)
DISTRICT_BUREAUS: tuple[tuple[str, str, str], ...] = (
    ("ZJJ", "住房和建设局", "住建局"),
    ("CGJ", "城市管理和综合执法局", "城管局"),
    ("JYJ", "教育局", "教育局"),
)
DISTRICTS_WITHOUT_BUREAUS = frozenset({"440399"})


def district_unit_code(district_code: str) -> str:
    return f"D{district_code}"


def district_bureau_code(district_code: str, suffix: str) -> str:
    return f"D{district_code}-{suffix}"


def street_unit_code(street_code: str) -> str:
    return f"S{street_code}"


def is_street_unit(code: str) -> bool:
    return code.startswith("S") and code[1:].isdigit()


def is_district_unit(code: str) -> bool:
    """A district government or a district bureau."""
    return code.startswith("D") and code[1:7].isdigit()


def district_government_name(district_name: str) -> tuple[str, str]:
    """(full name, short name) of a district's government."""
    if district_name.endswith("新区"):
        return f"深圳市{district_name}管理委员会", f"{district_name}管委会"
    return f"深圳市{district_name}人民政府", f"{district_name}政府"
