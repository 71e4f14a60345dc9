"""Demo logins, the staff behind the demo history, and name pools for generated requesters."""

from __future__ import annotations

from dataclasses import dataclass

from minyi.org.models import Role

DEMO_PASSWORD = "minyi-demo"  # noqa: S105 - the documented password of the demo logins

#: Role names as a Chinese operator says them.
ROLE_LABELS: dict[str, str] = {
    Role.INTAKE_AGENT: "受理坐席",
    Role.DISPATCHER: "派单员",
    Role.HANDLER: "承办人员",
    Role.UNIT_LEADER: "承办单位领导",
    Role.SUPERVISOR: "督办人员",
    Role.CITY_LEADER: "市领导",
    Role.ADMIN: "系统管理员",
}


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    unit_code: str | None
    display_name: str
    superuser: bool = False


#: Who can log in to the demo (password `DEMO_PASSWORD`). `handler` and `leader` share a unit.
DEMO_LOGINS: tuple[Login, ...] = (
    Login("agent", Role.INTAKE_AGENT, "SZ12345", "李娜"),
    Login("dispatcher", Role.DISPATCHER, "SZ12345", "王磊"),
    Login("handler", Role.HANDLER, "SZZJJ", "张敏"),
    Login("leader", Role.UNIT_LEADER, "SZZJJ", "陈建国"),
    Login("supervisor", Role.SUPERVISOR, "SZ12345", "刘芳"),
    Login("cityleader", Role.CITY_LEADER, None, "赵志刚"),
    Login("admin", Role.ADMIN, "SZ12345", "黄伟", superuser=True),
    Login("handler_lianhua", Role.HANDLER, "S440304007", "周婷"),
    Login("handler_rsj", Role.HANDLER, "SZRSJ", "吴晓东"),
    Login("handler_scjg", Role.HANDLER, "SZSCJGJ", "郑丽华"),
)

#: Platform staff who appear in the history but cannot log in (no usable password).
CENTRE_STAFF: tuple[Login, ...] = (
    Login("demo_agent_2", Role.INTAKE_AGENT, "SZ12345", "林晓燕"),
    Login("demo_agent_3", Role.INTAKE_AGENT, "SZ12345", "何嘉欣"),
    Login("demo_agent_4", Role.INTAKE_AGENT, "SZ12345", "罗俊杰"),
    Login("demo_dispatcher_2", Role.DISPATCHER, "SZ12345", "梁志强"),
)

#: Prefix of the background handler accounts made for units that receive demo tickets.
UNIT_STAFF_PREFIX = "demo_"

SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
    "杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆汪范廖方邹熊邱江赖温戴"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏飞辉婷雪琳晨浩宇轩"
    "欣怡佳颖子涵思远俊斌志国建文海燕丹凤嘉怡晓东振宇梓豪诗雨家豪慧"
)
#: Job titles a worker gives for wage arrears.
JOBS = ("普工", "电工", "木工", "钢筋工", "装修工", "仓库管理员", "外卖骑手", "服务员", "保安",
        "质检员", "司机", "厨师")
