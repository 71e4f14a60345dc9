"""The mix of generated tickets, and where each figure comes from.

The seed (`docs/domain.md`, "Scale the seed reports") gives the platform's own figures; the
rest follows the demo history (`minyi.org.demo.history`) or common 12345 practice. Shares are
of all tickets unless said otherwise. Tests check the generated data against the seed's
figures (`tests/test_generate.py`); `benchmarks/README.md` lists what a run produced.
"""

from __future__ import annotations

# --- volume over time -----------------------------------------------------------------------

#: Tickets on a day off compared with a working day (the demo history's weekend weight).
OFF_DAY_WEIGHT = 0.55
#: Yearly growth of the volume as more requests come to the one front door (31 million
#: tickets since 2022, ~28,000 a day now): the first day of the span has 1 / (1 + g)^years of
#: the last day's volume.
YEARLY_GROWTH = 0.15
#: Share of tickets per hour of the day (Asia/Shanghai, 0:00 to 23:00), as in the demo history.
HOUR_WEIGHTS = (0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 4.0, 4.5, 4.0,
                2.8, 3.0, 4.0, 4.2, 4.0, 3.5, 2.8, 2.5, 2.2, 1.8, 1.2, 0.6)

#: The seed's hot issue (类案治理): complaints about illegal surcharges on water, electricity
#: and gas fell 90% once found, from ~20,000 to < 2,000 a month (of ~850,000). Its share of
#: tickets until the platform takes it up (a fraction of the span), then the decline.
HOT_ISSUE_SHARE = 0.024
HOT_ISSUE_FOUND_AT = 0.35  # of the span
HOT_ISSUE_DECLINE_DAYS = 300  # to a tenth of the share, then flat
HOT_ISSUE_FLOOR = 0.1

# --- who asks what, where and how -------------------------------------------------------------

#: Enterprise requests: 113,100 in four weeks (~4,000 a day) of ~28,000 tickets a day.
ENTERPRISE_SHARE = 0.135
#: "95%以上为服务类诉求": enterprises mostly ask (consultations); the rest complain.
ENTERPRISE_CONSULTATION_SHARE = 0.95
#: Citizens' request types (the demo history's intake mix).
CITIZEN_TYPE_WEIGHTS = {"consultation": 35, "complaint": 30, "help": 20, "suggestion": 8, "report": 7}
CITIZEN_CHANNELS = {"hotline": 55, "app": 18, "miniprogram": 15, "web": 12}
#: Enterprises come through the enterprise zone (企事速办) of the web and app channels.
ENTERPRISE_CHANNELS = {"web": 35, "app": 30, "miniprogram": 20, "hotline": 15}
ANONYMOUS_SHARE = 0.32  # of citizens (the seed: more and more requesters choose anonymity)
CONTACT_ALLOWED = {True: 0.3, False: 0.75}  # by anonymity: the unit may call back
NAMED_PHONE_SHARE = 0.5  # of named online requesters who leave a phone (always on the hotline)
EMAIL_SHARE = 0.15  # of named requesters on the web and app channels
INFORMAL_NAME_SHARE = 0.35  # "张先生" rather than a full name
COORDINATES_CHANNELS = frozenset({"app", "miniprogram"})  # located by the phone when there is an address

# --- the platform answers or dispatches --------------------------------------------------------

#: "超过80%的诉求由平台直接答复办结" (enterprises): 0.95 × 0.84 ≈ 0.80 of enterprise requests.
ENTERPRISE_DIRECT_SHARE = 0.84  # of enterprise consultations
#: Citizens' consultations answered from the knowledge base (深小i answers > 96% of what it is asked).
CITIZEN_DIRECT_SHARE = 0.60
RETURN_SHARE = 0.04  # of dispatched (not urgent) tickets: sent to a wrong unit first, returned
SIGN_LATE_SHARE = 0.03  # signed for after the sign-for time (the response rate is ~97%)

# --- handling ---------------------------------------------------------------------------------

#: "按时办结率达99.59%": share of dispatched tickets replied after their deadline. A late
#: ticket gets an overdue supervision order at the deadline job's next run and is replied
#: within a working day; the order then closes.
LATE_SHARE = 0.0041
#: "转派工单的平均办理时长…压缩到5天": the reply comes after a fraction of the time left
#: (office time from signing to the deadline) drawn from Beta(a, b); a, b give ~5 days from
#: dispatch to reply on the default mix (measured in tests and the benchmark).
REPLY_FRACTION_BETA = (1.15, 2.8)
#: Applications for more time (延期), of signed help, complaint and report tickets (not urgent).
EXTENSION_SHARE = 0.03
EXTENSION_REFUSED_SHARE = 0.15
EXTENSION_DAYS = (3, 5, 5, 7, 10)
LEADER_REPLY_SHARE = 0.3  # the unit leader writes the reply himself
#: What replies say came of the request (ReplyOutcome codes): the demo history's shares; the
#: seed's enterprise figures: 17,000 of 20,700 dispatched enterprise requests resolved (82%).
CITIZEN_OUTCOMES = {"resolved": 68, "partly_resolved": 10, "explained": 14, "planned": 4, "referred": 4}
ENTERPRISE_OUTCOMES = {"resolved": 82, "partly_resolved": 6, "explained": 8, "planned": 2, "referred": 2}

# --- closing the loop -------------------------------------------------------------------------

RATED_SHARE = {"citizen": 0.65, "enterprise": 0.55}  # the others close when the window ends
#: Citizens' ratings; enterprises' active ratings are all satisfied ("企业主动评价满意率达到100%").
CITIZEN_RATINGS = {"satisfied": 74, "basically_satisfied": 18, "dissatisfied": 8}
ENTERPRISE_RATINGS = {"satisfied": 90, "basically_satisfied": 10, "dissatisfied": 0}
VISIT_SHARE = 0.5  # of ratings by requesters with a phone: recorded by an agent on a return visit
REDO_SHARE = 0.5  # of dissatisfied ratings: judged reasonable and redone (不满意重办)
UNRATED_SYSTEM_CLOSE = 0.7  # the rating window job; the rest a dispatcher after failed return visits
