"""The demo category tree (2–3 levels, about 100 nodes), modelled on 12345 classification practice.

Every leaf names its usual request type and its usual handling unit (a unit code from
`units`). A leaf without a unit is location-bound: the dispatcher sends it to the street
office of the place (街道办事处, "属地管理"). `district_bureau` names the district bureau
(a suffix from `units.DISTRICT_BUREAUS`) that handles the leaf in practice, e.g. school places
are allocated by the district education bureaus; the demo dispatcher follows it, the
category's default unit stays the city bureau.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    type: str = ""
    unit: str | None = None
    children: tuple[Node, ...] = ()
    district_bureau: str | None = None


def N(code: str, name: str, *children: Node) -> Node:
    return Node(code, name, children=children)


def L(code: str, name: str, type_: str, unit: str | None = None, district_bureau: str | None = None) -> Node:
    return Node(code, name, type_, unit, district_bureau=district_bureau)


CONSULT, HELP, SUGGEST, COMPLAIN, REPORT = "consultation", "help", "suggestion", "complaint", "report"

TREE: tuple[Node, ...] = (
    N("01", "城乡建设",
      N("0101", "物业管理",
        L("010101", "电梯故障", COMPLAIN, "SZZJJ"),
        L("010102", "物业服务", COMPLAIN, "SZZJJ"),
        L("010103", "公共收益", COMPLAIN, "SZZJJ")),
      L("0102", "住房保障", CONSULT, "SZZJJ"),
      L("0103", "住房公积金", CONSULT, "SZGJJ"),
      L("0104", "商品房质量", COMPLAIN, "SZZJJ"),
      L("0105", "房屋租赁", HELP),
      L("0106", "房地产中介", COMPLAIN, "SZZJJ"),
      L("0107", "既有住宅加装电梯", CONSULT, "SZZJJ")),
    N("02", "环境保护",
      N("0201", "噪音污染",
        L("020101", "施工噪音", COMPLAIN, "SZSTHJJ"),
        L("020102", "社会生活噪音", COMPLAIN),
        L("020103", "交通噪音", COMPLAIN, "SZSTHJJ")),
      L("0202", "餐饮油烟", COMPLAIN, "SZSTHJJ"),
      L("0203", "工业废气", REPORT, "SZSTHJJ"),
      L("0204", "水污染", REPORT, "SZSTHJJ"),
      L("0205", "建筑垃圾偷倒", REPORT, "SZCGJ")),
    N("03", "交通运输",
      L("0301", "公交服务", COMPLAIN, "SZJTJ"),
      L("0302", "地铁服务", SUGGEST, "SZDT"),
      L("0303", "出租车与网约车", COMPLAIN, "SZJTJ"),
      L("0304", "违法停车", REPORT, "SZJJJ"),
      L("0305", "道路交通设施", HELP, "SZJJJ"),
      L("0306", "驾驶证与车辆", CONSULT, "SZJJJ"),
      L("0307", "小汽车增量指标", CONSULT, "SZJTJ")),
    N("04", "劳动和社会保障",
      L("0401", "欠薪", COMPLAIN, "SZRSJ"),
      L("0402", "劳动合同", HELP, "SZRSJ"),
      L("0403", "工伤", CONSULT, "SZRSJ"),
      L("0404", "社会保险", CONSULT, "SZRSJ"),
      L("0405", "积分入户", CONSULT, "SZRSJ")),
    N("05", "市场监管",
      N("0501", "消费维权",
        L("050101", "预付卡退费", COMPLAIN, "SZSCJGJ"),
        L("050102", "商品质量", COMPLAIN, "SZSCJGJ"),
        L("050103", "网购纠纷", COMPLAIN, "SZSCJGJ")),
      L("0502", "价格违法", REPORT, "SZSCJGJ"),
      L("0503", "食品安全", REPORT, "SZSCJGJ"),
      L("0504", "商事登记", CONSULT, "SZSCJGJ"),
      L("0505", "特种设备安全", REPORT, "SZSCJGJ")),
    N("06", "教育",
      L("0601", "学位申请", CONSULT, "SZJYJ", district_bureau="JYJ"),
      L("0602", "校外培训", COMPLAIN, "SZJYJ"),
      L("0603", "校园周边安全", SUGGEST, "SZJYJ", district_bureau="JYJ")),
    N("07", "卫生健康",
      L("0701", "医疗服务", COMPLAIN, "SZWJW"),
      L("0702", "疫苗接种", CONSULT, "SZWJW"),
      L("0703", "病媒生物防制", HELP),
      L("0704", "生育服务", CONSULT, "SZWJW")),
    N("08", "社会保障",
      L("0801", "医保报销", CONSULT, "SZYBJ"),
      L("0802", "医保参保", CONSULT, "SZYBJ"),
      L("0803", "社会救助", HELP, "SZMZJ"),
      L("0804", "养老服务", CONSULT, "SZMZJ")),
    N("09", "公共安全",
      L("0901", "电信网络诈骗", HELP, "SZGAJ"),
      L("0902", "消防安全", REPORT, "SZXFZD"),
      L("0903", "安全生产", REPORT, "SZYJGLJ"),
      L("0904", "防灾减灾", HELP, "SZYJGLJ")),
    N("10", "城市管理",
      L("1001", "占道经营", COMPLAIN),
      L("1002", "垃圾清运", COMPLAIN),
      L("1003", "违法建设", REPORT),
      L("1004", "园林绿化", HELP, "SZCGJ"),
      L("1005", "公园管理", SUGGEST, "SZCGJ"),
      L("1006", "路灯照明", HELP, "SZCGJ"),
      L("1007", "垃圾分类", CONSULT, "SZCGJ")),
    N("11", "水电燃气",
      L("1101", "停水", HELP, "SZSWJT"),
      L("1102", "供水服务", COMPLAIN, "SZSWJT"),
      L("1103", "供电", HELP, "SZGDJ"),
      L("1104", "燃气", HELP, "SZRQ"),
      L("1105", "排水防涝", HELP, "SZSWJ")),
    N("12", "企业服务",
      N("1201", "政策咨询",
        L("120101", "惠企资金政策", CONSULT, "SZGXJ"),
        L("120102", "科技项目与高企认定", CONSULT, "SZKCJ"),
        L("120103", "稳岗与用工", CONSULT, "SZRSJ")),
      L("1202", "税费服务", CONSULT, "SZSUIWUJ"),
      L("1203", "营商环境", COMPLAIN, "SZFGW"),
      L("1204", "融资服务", CONSULT, "SZJRJ"),
      L("1205", "外贸外资", CONSULT, "SZSHANGWUJ")),
    N("13", "政务服务",
      L("1301", "政务服务平台", SUGGEST, "SZZSJ"),
      L("1302", "法律援助", HELP, "SZSFJ"),
      L("1303", "户籍证件", CONSULT, "SZGAJ")),
    N("14", "文化旅游体育",
      L("1401", "文化活动", SUGGEST, "SZWGLTJ"),
      L("1402", "旅游投诉", COMPLAIN, "SZWGLTJ"),
      L("1403", "体育设施", SUGGEST, "SZWGLTJ"),
      L("1404", "文化娱乐场所", REPORT, "SZWGLTJ")),
    N("15", "规划和自然资源",
      L("1501", "城市规划", SUGGEST, "SZGHZYJ"),
      L("1502", "不动产登记", CONSULT, "SZGHZYJ")),
)


def walk(nodes: tuple[Node, ...] = TREE, parent: Node | None = None):
    """Yield (node, parent) depth first, parents before children."""
    for node in nodes:
        yield node, parent
        yield from walk(node.children, node)
